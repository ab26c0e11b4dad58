//! The assist commands end to end: `aiex up` as a process with its OpenAI provider
//! pointed (OPENAI_BASE_URL) at a real HTTP server in the test speaking OpenAI's
//! streaming wire format, and the `aiex` client streaming the answers.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use common::fake_llm::{Fake, openai};
use common::llm_server::Reply;
use common::{Server, sample, session_id, stderr, wait_output};

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn succeeded(server: &Server, args: &[&str], out: &std::process::Output) {
    assert!(
        out.status.success(),
        "aiex {args:?} failed: {}\nserver log:\n{}",
        stderr(out),
        server.log()
    );
}

#[test]
fn explain_streams_tokens_with_context_from_the_index() {
    let fake = Fake::start(|_, _| openai(&["Inventory.Stock ", "keeps ", "the stock levels."]));
    let dir = tempfile::tempdir().unwrap();
    let server = fake.up(&dir.path().join("data"));
    let sample = sample();
    let add = ["repo", "add", sample.to_str().unwrap(), "--json"];
    server.json(&add);

    let args = [
        "explain",
        "Inventory.Stock",
        "--detail",
        "basic",
        "--focus",
        "architecture",
    ];
    let out = server.run(&args);
    succeeded(&server, &args, &out);
    assert!(
        stdout(&out).contains("Inventory.Stock keeps the stock levels."),
        "{}",
        stdout(&out)
    );
    assert!(
        stderr(&out).contains("[openai gpt-test"),
        "{}",
        stderr(&out)
    );
    let prompt = fake.prompt(0);
    assert!(prompt.contains("Explain `Inventory.Stock`"), "{prompt}");
    assert!(prompt.contains("architecture"), "{prompt}");
    assert!(
        prompt.contains("lib/inventory/stock.ex"),
        "the definition and search hits are in the prompt: {prompt}"
    );
    assert_eq!(fake.server.requests()[0].json()["stream"], true);

    // A line range of a local file is sent as the code to explain.
    let file = sample.join("lib/inventory/stock.ex");
    let target = format!("{}:1-3", file.display());
    let args = ["explain", target.as_str()];
    let out = server.run(&args);
    succeeded(&server, &args, &out);
    let prompt = fake.prompt(1);
    assert!(prompt.contains("defmodule Inventory.Stock do"), "{prompt}");
}

#[test]
fn gen_module_repairs_invalid_elixir_exactly_once() {
    let fake = Fake::start(|i, _| {
        if i == 0 {
            openai(&[
                "```elixir\ndefmodule Greeter do\n  def hello(name do\n",
                "    name\n  end\nend\n```\n",
            ])
        } else {
            openai(&[
                "```elixir\ndefmodule Greeter do\n  @moduledoc \"Greets.\"\n",
                "  @doc \"Says hello.\"\n  @spec hello(String.t()) :: String.t()\n  def hello(name), do: \"Hello \" <> name\nend\n```\n",
            ])
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let server = fake.up(&dir.path().join("data"));
    let out_file = dir.path().join("greeter.ex");
    let args = [
        "gen",
        "module",
        "Greeter",
        "greets people by name",
        "--out",
        out_file.to_str().unwrap(),
    ];
    let out = server.run(&args);
    succeeded(&server, &args, &out);
    assert_eq!(fake.server.count(), 2, "one generation and one repair");
    let repair = fake.prompt(1);
    assert!(repair.contains("syntax error at line"), "{repair}");
    assert!(
        repair.contains("Write a complete Elixir module named `Greeter`"),
        "{repair}"
    );
    let err = stderr(&out);
    assert!(err.contains("the code parses (after one repair)"), "{err}");
    let code = std::fs::read_to_string(&out_file).unwrap();
    assert!(code.starts_with("defmodule Greeter do"), "{code}");
    assert!(code.contains("@spec hello"), "{code}");
    assert!(aiex_node::assist::elixir_check::syntax_error(&code).is_none());
    assert!(
        stdout(&out).contains("def hello(name), do:"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn gen_module_refuses_a_bad_name_and_fails_on_code_that_never_parses() {
    // The model answers broken Elixir every time, the repair included.
    let fake = Fake::start(|_, _| {
        openai(&["```elixir\ndefmodule Greeter do\n  def hello(name do\nend\n```\n"])
    });
    let dir = tempfile::tempdir().unwrap();
    let server = fake.up(&dir.path().join("data"));
    for name in ["foo bar", "123", "greeter", "Greeter..Name", "Greeter.name"] {
        let args = ["gen", "module", name, "greets people"];
        let err = common::fails_saying(&args, &server.run(&args), "not an Elixir module name");
        assert!(err.contains("invalid argument"), "{err}");
    }
    assert_eq!(fake.server.count(), 0, "a bad name reached the model");

    let out_file = dir.path().join("greeter.ex");
    let args = [
        "gen",
        "module",
        "MyApp.Greeter",
        "greets people by name",
        "--out",
        out_file.to_str().unwrap(),
    ];
    let out = server.run(&args);
    let err = common::fails_saying(&args, &out, "still does not parse after one repair");
    assert!(err.contains("WARNING: the code does not parse"), "{err}");
    assert_eq!(fake.server.count(), 2, "one generation and one repair");
    // Written anyway, to be fixed by hand.
    let code = std::fs::read_to_string(&out_file).unwrap();
    assert!(code.starts_with("defmodule Greeter do"), "{code}");
}

#[test]
fn gen_tests_and_complete_check_their_elixir() {
    let fake = Fake::start(|i, _| {
        if i == 0 {
            openai(&[
                "```elixir\ndefmodule GreeterTest do\n  use ExUnit.Case, async: true\n\n  describe \"hello/1\" do\n    test \"greets\" do\n      assert Greeter.hello(\"a\") == \"Hello a\"\n    end\n  end\nend\n```\n",
            ])
        } else {
            openai(&["```elixir\n    x + 1\n```"])
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let server = fake.up(&dir.path().join("data"));
    let source = dir.path().join("greeter.ex");
    std::fs::write(
        &source,
        "defmodule Greeter do\n  def hello(name), do: \"Hello \" <> name\n\n  def inc(x) do\n  end\nend\n",
    )
    .unwrap();
    let target = source.to_str().unwrap().to_string();
    let args = ["gen", "tests", target.as_str()];
    let out = server.run(&args);
    succeeded(&server, &args, &out);
    assert!(
        stdout(&out).contains("describe \"hello/1\""),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("the code parses"), "{}", stderr(&out));
    assert!(
        fake.prompt(0).contains("def hello(name)"),
        "the local file is the code under test"
    );

    let at = format!("{target}:4");
    let args = ["complete", at.as_str()];
    let out = server.run(&args);
    succeeded(&server, &args, &out);
    assert!(stdout(&out).contains("x + 1"), "{}", stdout(&out));
    assert!(stderr(&out).contains("the code parses"), "{}", stderr(&out));
    let prompt = fake.prompt(1);
    assert!(prompt.contains("def inc(x) do<CURSOR>\n  end"), "{prompt}");
    assert_eq!(fake.server.count(), 2, "valid answers need no repair");
}

/// Runs `aiex chat [--session ID]` with these lines on stdin.
fn chat(server: &Server, session: Option<&str>, lines: &str) -> std::process::Output {
    wait_output(server.spawn_chat(session, lines), &["chat"])
}

#[test]
fn chat_sessions_survive_a_restart() {
    let fake = Fake::start(|i, _| openai(&["answer ", &i.to_string()]));
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = fake.up(&data);
    let out = chat(&server, None, "what is a GenServer?\nand a Supervisor?\n");
    succeeded(&server, &["chat"], &out);
    assert!(stdout(&out).contains("answer 0"), "{}", stdout(&out));
    assert!(stdout(&out).contains("answer 1"), "{}", stdout(&out));
    let session = session_id(&stderr(&out));
    // The second turn carried the first.
    let second = fake.prompt(1);
    assert!(
        second.contains("what is a GenServer?") && second.contains("answer 0"),
        "{second}"
    );

    // A session that never was is named, not started afresh without its history.
    let out = chat(&server, Some("no-such-session"), "and a Registry?\n");
    assert!(!out.status.success(), "{}", stdout(&out));
    assert!(
        stderr(&out).contains("chat session not found: no-such-session"),
        "{}",
        stderr(&out)
    );
    assert_eq!(fake.server.count(), 2, "no model was asked");

    assert!(server.terminate().success());
    let server = fake.up(&data);
    let out = chat(&server, Some(&session), "and a Registry?\n");
    succeeded(&server, &["chat"], &out);
    assert!(stdout(&out).contains("answer 2"), "{}", stdout(&out));
    let third = fake.prompt(2);
    for earlier in [
        "what is a GenServer?",
        "answer 0",
        "and a Supervisor?",
        "answer 1",
        "and a Registry?",
    ] {
        assert!(
            third.contains(earlier),
            "the resumed session lost {earlier:?}: {third}"
        );
    }
    let messages = fake.server.requests()[2].json()["messages"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(messages, 6, "system, two earlier turns, the new question");
}

/// A long chat keeps its newest turns verbatim within `AIEX_CHAT_HISTORY_TOKENS` and
/// sends the older ones as a summary the model wrote: one summarising call before the
/// turn, with the older turns in it.
#[test]
fn older_chat_turns_are_summarised_by_the_model() {
    let fake = Fake::start(|i, request| {
        let system = request.json()["messages"][0]["content"]
            .as_str()
            .unwrap_or("")
            .to_string();
        if system.starts_with("Summarise the earlier part") {
            openai(&["- asked about Inventory.Stock.reserve/4 ", "(summary)"])
        } else {
            openai(&[&format!("answer {i}: "), &"a long explanation. ".repeat(15)])
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let server = fake.up_env(
        &dir.path().join("data"),
        &[("AIEX_CHAT_HISTORY_TOKENS", "200")],
    );
    let questions = [
        "how do I reserve stock with Inventory.Stock?",
        "and release it?",
        "what happens when the reservation expires?",
        "and how is it tested?",
    ];
    let lines: String = questions.iter().map(|q| format!("{q}\n")).collect();
    let out = chat(&server, None, &lines);
    succeeded(&server, &["chat"], &out);
    let requests = fake.server.requests();
    let is_summary = |i: usize| {
        requests[i].json()["messages"][0]["content"]
            .as_str()
            .unwrap()
            .starts_with("Summarise the earlier part")
    };
    let summaries: Vec<usize> = (0..requests.len()).filter(|&i| is_summary(i)).collect();
    assert!(
        !summaries.is_empty(),
        "a 200-token window cannot hold four long turns: {} requests",
        requests.len()
    );
    // The summarising call saw the oldest turn; the turn after it got the summary
    // instead of that turn.
    let first = summaries[0];
    assert!(
        fake.prompt(first)
            .contains("how do I reserve stock with Inventory.Stock?"),
        "{}",
        fake.prompt(first)
    );
    let turn = fake.prompt(first + 1);
    assert!(!is_summary(first + 1));
    assert!(
        turn.contains("Summary of the earlier conversation:\n- asked about Inventory.Stock.reserve/4 (summary)"),
        "{turn}"
    );
    let sent: Vec<String> = requests[first + 1].json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !sent.contains(&questions[0].to_string()),
        "the oldest turn is summarised, not sent verbatim: {sent:?}"
    );
    // Every question was answered, once.
    let turns: Vec<usize> = (0..requests.len()).filter(|&i| !is_summary(i)).collect();
    assert_eq!(turns.len(), questions.len());
    for i in turns {
        assert!(stdout(&out).contains(&format!("answer {i}: ")), "turn {i}");
    }
}

#[test]
fn without_a_provider_assist_is_refused_naming_the_variables_and_search_works() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"));
    let args = ["explain", "Inventory.Stock"];
    let out = server.run(&args);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("explain: refused:"),
        "FAILED_PRECONDITION: {err}"
    );
    for var in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "OLLAMA_HOST",
    ] {
        assert!(err.contains(var), "{var} is not named: {err}");
    }
    let sample = sample();
    server.json(&["repo", "add", sample.to_str().unwrap(), "--json"]);
    let found = server.json(&["search", "reserve stock", "--json"]);
    assert!(!common::hits(&found).is_empty(), "{found}");
}

#[test]
fn an_unreachable_provider_is_reported_by_a_running_gateway_without_its_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = "sk-aiex-test-key-never-printed";
    let server = Server::start_role_env(
        &dir.path().join("data"),
        &["up", "--listen", "127.0.0.1:0"],
        &[
            ("OPENAI_API_KEY", key),
            ("OPENAI_BASE_URL", "http://127.0.0.1:1"),
        ],
    );
    let sample = sample();
    server.json(&["repo", "add", sample.to_str().unwrap(), "--json"]);
    let args = ["explain", "Inventory.Stock"];
    let out = server.run(&args);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("explain: unavailable:"), "{err}");
    assert!(err.contains("openai"), "the provider is not named: {err}");
    assert!(
        !err.contains("connection to the gateway") && !err.contains("went away"),
        "a provider failure reads as the gateway gone: {err}"
    );
    assert!(!err.contains(key), "the key leaked: {err}");
    assert!(
        !server.log().contains(key),
        "the key reached the server log"
    );
    // The gateway is still there.
    let found = server.json(&["search", "reserve stock", "--json"]);
    assert!(!common::hits(&found).is_empty(), "{found}");
}

#[test]
fn a_client_going_away_cancels_the_provider_call() {
    let closed = Arc::new(Notify::new());
    let on_close = closed.clone();
    let fake = Fake::start(move |_, _| {
        let Reply::Stream { pieces, .. } = openai(&["a long answer "]) else {
            unreachable!()
        };
        Reply::Stream {
            content_type: "text/event-stream",
            // The first token, then the provider keeps the answer open.
            pieces: pieces.into_iter().take(2).collect(),
            delay: Duration::from_millis(1),
            cut_after: None,
            gate: None,
            hold_open: Some(on_close.clone()),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let server = fake.up(&dir.path().join("data"));
    let mut client = server.spawn(&["explain", "Inventory.Stock"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while fake.server.count() == 0 {
        assert!(
            Instant::now() < deadline,
            "the provider was never called:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    client.kill().unwrap();
    client.wait().unwrap();
    fake.runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(60), closed.notified()).await })
        .unwrap_or_else(|_| panic!("the provider call was not cancelled:\n{}", server.log()));
}
