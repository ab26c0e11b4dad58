//! `aiex context` end to end: the prompt a question about the sample project would get,
//! from a running `aiex up` and from the offline index, as text and as JSON.

mod common;

use common::{Server, aiex_in, fails_saying, ok_json, stderr};

const TARGET: &str = "Inventory.Stock.reserve/4";
const QUESTION: &str = "how is stock reserved and released?";

fn assert_prompt(prompt: &str) {
    assert!(
        prompt.contains("## Target: Inventory.Stock.reserve/4"),
        "{prompt}"
    );
    assert!(prompt.contains("def reserve(server, sku, quantity, opts \\\\ [])"));
    assert!(prompt.contains("defmodule Inventory.Stock do"));
    assert!(prompt.ends_with(&format!("## Question\n{QUESTION}\n\n")));
}

#[test]
fn context_from_the_embedded_server_as_text_and_json() {
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("inventory");
    common::copy_dir(&common::sample(), &project);
    let server = Server::start(&tmp.path().join("data"));
    server.json(&["repo", "add", project.to_str().unwrap(), "--json"]);

    let args = ["context", QUESTION, "--target", TARGET];
    let out = server.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let prompt = String::from_utf8(out.stdout.clone()).unwrap();
    assert_prompt(&prompt);
    let err = stderr(&out);
    assert!(
        err.starts_with("tokens: ") && err.contains("-token budget (gpt-4o, o200k_base)"),
        "{err}"
    );

    let json = server.json(&["context", QUESTION, "--target", TARGET, "--json"]);
    assert_eq!(
        json["prompt"].as_str().unwrap(),
        prompt,
        "text and JSON differ"
    );
    let tokens = json["tokens"].as_u64().unwrap();
    assert!(err.starts_with(&format!("tokens: {tokens} of a ")), "{err}");
    assert!(tokens > 0 && tokens <= json["budget"].as_u64().unwrap());
    let kinds: Vec<&str> = json["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    for k in ["target", "module_header", "caller", "question"] {
        assert!(kinds.contains(&k), "no {k} in {kinds:?}");
    }

    // A budget too small for everything: sections collapse or go, the count stays under.
    let small = server.json(&[
        "context",
        QUESTION,
        "--target",
        TARGET,
        "--budget",
        "600",
        "--model",
        "claude-sonnet-4",
        "--json",
    ]);
    assert!(small["tokens"].as_u64().unwrap() <= 600, "{small}");
    assert_eq!(small["budget"], 600);
    assert_eq!(small["tokenizer"], "estimate (chars/3.5)");
    assert!(small["prompt"].as_str().unwrap().contains("def reserve("));

    let out = server.run(&["context", "--target", "Inventory.Nope.f/1"]);
    fails_saying(&args, &out, "target not found: Inventory.Nope.f/1");
    // A misspelt target: the names it may have meant, as `aiex symbols` offers them.
    let out = server.run(&["context", "--target", "Inventory.Stock.reserv/4"]);
    fails_saying(&args, &out, "did you mean Inventory.Stock.reserve/4");
    let out = server.run(&["context"]);
    fails_saying(&args, &out, "ask a question, name a target, or both");
}

#[test]
fn context_offline_from_the_data_directory_without_credentials() {
    const KEY: &str = "sk-test-ContextLeak0123456789";
    let tmp = tempfile::tempdir().unwrap();
    let project = tmp.path().join("inventory");
    common::copy_dir(&common::sample(), &project);
    // A key committed by mistake, which the environment also holds.
    std::fs::write(
        project.join("lib/inventory/leak.ex"),
        format!("defmodule Inventory.Leak do\n  def key, do: \"{KEY}\"\nend\n"),
    )
    .unwrap();
    let data = tmp.path().join("data");
    let out = aiex_in(&data, &["index", project.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let args = [
        "context",
        QUESTION,
        "--target",
        TARGET,
        "--offline",
        "--json",
    ];
    let json = ok_json(&args, &aiex_in(&data, &args));
    assert_prompt(json["prompt"].as_str().unwrap());
    assert!(json["tokens"].as_u64().unwrap() <= json["budget"].as_u64().unwrap());
    // A file named by its absolute path (lines too) is the same file inside its
    // repository; a path outside every indexed directory names them.
    let leak = project
        .canonicalize()
        .unwrap()
        .join("lib/inventory/leak.ex");
    for (target, title) in [
        (
            leak.display().to_string(),
            "inventory/lib/inventory/leak.ex",
        ),
        (
            format!("{}:2-2", leak.display()),
            "inventory/lib/inventory/leak.ex:2-2",
        ),
    ] {
        let args = [
            "context",
            "--target",
            target.as_str(),
            "--offline",
            "--json",
        ];
        let json = ok_json(&args, &aiex_in(&data, &args));
        let prompt = json["prompt"].as_str().unwrap();
        assert!(prompt.contains("defmodule Inventory.Leak"), "{prompt}");
        assert!(prompt.contains(title), "{title} not in {prompt}");
    }
    // So is a path from the current directory (`./leak.ex` in `lib/inventory`), and
    // `./lib/…` from outside the repository is still the path inside it.
    for (cwd, target) in [
        (project.join("lib/inventory"), "./leak.ex:2-2"),
        (tmp.path().to_path_buf(), "./lib/inventory/leak.ex:2-2"),
    ] {
        let args = ["context", "--target", target, "--offline", "--json"];
        let json = ok_json(&args, &common::aiex_from(&cwd, &data, &args));
        let prompt = json["prompt"].as_str().unwrap();
        assert!(
            prompt.contains("defmodule Inventory.Leak"),
            "{target}: {prompt}"
        );
    }
    let elsewhere = tmp.path().join("elsewhere.ex");
    let args = [
        "context",
        "--target",
        elsewhere.to_str().unwrap(),
        "--offline",
    ];
    let err = common::fails_saying(
        &args,
        &aiex_in(&data, &args),
        "is not inside a directory indexed offline",
    );
    assert!(err.contains("inventory: "), "{err}");
    // A zero budget is refused, not read as "the default".
    let args = ["context", QUESTION, "--budget", "0", "--offline"];
    common::fails_saying(&args, &aiex_in(&data, &args), "--budget");
    // A model of no known family works, counted by estimate, and says so.
    let args = ["context", QUESTION, "--model", "foo-1", "--offline"];
    let out = aiex_in(&data, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("warning: unknown model `foo-1`"),
        "{}",
        stderr(&out)
    );

    let args = [
        "context",
        "what is the key?",
        "--target",
        "Inventory.Leak.key/0",
        "--offline",
    ];
    let out = common::command()
        .env("OPENAI_API_KEY", KEY)
        .arg("--data-dir")
        .arg(&data)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let prompt = String::from_utf8(out.stdout).unwrap();
    // Masked when indexed (it looks like a key), so it never reached the index.
    let masked = format!("def key, do: \"{}\"", "*".repeat(KEY.len()));
    assert!(prompt.contains(&masked), "{prompt}");
    assert!(!prompt.contains(KEY), "the key leaked:\n{prompt}");
}
