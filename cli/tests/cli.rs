//! The `aiex` binary as a user runs it without a server: a real process, the sample Mix
//! project, a temporary data directory, and `--json` output parsed and checked. The
//! offline flow is `aiex index` into the data directory, then `search --offline` and
//! `symbols --offline`; `aiex chunk` needs no index at all.

mod common;

use std::path::Path;
use std::process::Output;

use common::sample;
use serde_json::{Value, json};

fn aiex(data: &Path, args: &[&str]) -> Output {
    common::aiex_in(data, args)
}

fn json(data: &Path, args: &[&str]) -> Value {
    common::ok_json(args, &aiex(data, args))
}

#[test]
fn index_offline_then_search_and_look_up_symbols_of_a_real_project() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let sample = sample();
    let sample = sample.to_str().unwrap();

    // Searching before anything is indexed says what to do.
    let out = aiex(d, &["search", "--offline", "stock"]);
    common::fails_saying(&["search", "--offline", "stock"], &out, "aiex index");
    // ... and leaves nothing behind: a read creates no index.
    assert!(!d.join("index").exists(), "a search created the index");

    let first = json(d, &["index", sample, "--name", "inventory", "--json"]);
    assert_eq!(first["repository"], "inventory");
    let stats = &first["stats"];
    // The counts `aiex repo add --json` gives are at the top too.
    for key in [
        "files_seen",
        "files_indexed",
        "files_unchanged",
        "chunks",
        "bytes",
    ] {
        assert_eq!(first[key], stats[key], "{key}: {first}");
    }
    assert_eq!(
        (&first["state"], &first["files_skipped"]),
        (&json!("ready"), &json!(0))
    );
    let files = common::files_under(Path::new(sample)).len() as u64;
    assert_eq!(stats["files_seen"], files, "{first}");
    // No model: no embedding stage, and the command took its indexing time.
    assert_eq!(first["embedding"], json!(null), "{first}");
    assert_eq!(first["total_seconds"], first["seconds"], "{first}");
    assert_eq!(first["repositories_in_index"], 1, "{first}");
    assert_eq!(stats["files_indexed"], files, "{first}");
    assert_eq!(stats["files_failed"], 0);
    assert!(stats["chunks"].as_u64().unwrap() > 50);
    assert!(
        d.join("index").is_dir(),
        "the offline index lives in <data>/index"
    );

    // Unchanged: nothing is re-indexed.
    let again = json(d, &["index", sample, "--name", "inventory", "--json"]);
    assert_eq!(again["stats"]["files_indexed"], 0);
    assert_eq!(again["stats"]["files_unchanged"], stats["files_seen"]);

    let hits = json(
        d,
        &[
            "search",
            "--offline",
            "cancel a reservation and return units to stock",
            "--json",
        ],
    );
    let top = &hits["hits"][0];
    assert_eq!(top["symbol"], "Inventory.Stock.release/2", "{hits}");
    assert_eq!(top["path"], "lib/inventory/stock.ex");
    assert_eq!(top["repository"], "inventory");
    assert!(top["start_line"].as_u64().unwrap() > 1);

    let only_tests = json(
        d,
        &[
            "search",
            "--offline",
            "reserve",
            "--kind",
            "test",
            "--kind",
            "describe",
            "--json",
        ],
    );
    let kinds: Vec<&str> = only_tests["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.is_empty());
    assert!(
        kinds.iter().all(|k| *k == "test" || *k == "describe"),
        "{kinds:?}"
    );

    // `--path` as an absolute directory inside the indexed one: that repository's files
    // under it; outside every indexed directory: an error naming them.
    let lib = Path::new(sample)
        .canonicalize()
        .unwrap()
        .join("lib/inventory");
    let lib = lib.to_str().unwrap();
    let under = json(
        d,
        &["search", "--offline", "reserve", "--path", lib, "--json"],
    );
    let paths: Vec<&str> = under["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    assert!(!paths.is_empty(), "{under}");
    assert!(
        paths.iter().all(|p| p.starts_with("lib/inventory/")),
        "{paths:?}"
    );
    // `./inventory` from `lib/`: the shell's path, the same directory.
    let from_lib = Path::new(sample).join("lib");
    let args = [
        "search",
        "--offline",
        "reserve",
        "--path",
        "./inventory",
        "--json",
    ];
    let here = common::ok_json(&args, &common::aiex_from(&from_lib, d, &args));
    assert_eq!(here["hits"], under["hits"], "{here}");
    // A file name's prefix that is no path on disk, with `..` in it: read as written.
    let args = [
        "search",
        "--offline",
        "reserve",
        "--path",
        "../lib/inventory/sto",
        "--json",
    ];
    let prefix = common::ok_json(&args, &common::aiex_from(&from_lib, d, &args));
    let paths: Vec<&str> = prefix["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    assert!(!paths.is_empty(), "{prefix}");
    assert!(
        paths.iter().all(|p| p.starts_with("lib/inventory/sto")),
        "{paths:?}"
    );
    // A path no indexed file is under is an error naming it; under an indexed one, a
    // query matching nothing there is no result.
    let args = ["search", "--offline", "reserve", "--path", "lib/nowhere"];
    common::fails_saying(
        &args,
        &aiex(d, &args),
        "indexed path not found: lib/nowhere (nothing indexed is under it",
    );
    let args = ["search", "--offline", "zzyzx", "--path", "lib/inventory"];
    let out = aiex(d, &args);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("no results for \"zzyzx\""),
        "{out:?}"
    );
    let long = "lib/".repeat(300);
    let args = ["search", "--offline", "reserve", "--path", long.as_str()];
    common::fails_saying(&args, &aiex(d, &args), "path_prefix: at most 512 bytes");
    // An absolute path narrows to its repository: with `--repo` naming another, an error.
    let args = [
        "search",
        "--offline",
        "reserve",
        "--path",
        lib,
        "--repo",
        "nosuch",
    ];
    common::fails_saying(
        &args,
        &aiex(d, &args),
        "is in repository inventory, not in nosuch",
    );
    let args = ["search", "--offline", "reserve", "--path", "/nowhere/lib"];
    common::fails_saying(
        &args,
        &aiex(d, &args),
        "not inside a directory indexed offline",
    );

    let limited = json(
        d,
        &["search", "--offline", "stock", "--limit", "3", "--json"],
    );
    assert_eq!(limited["hits"].as_array().unwrap().len(), 3, "{limited}");

    let defs = json(
        d,
        &[
            "symbols",
            "--offline",
            "def",
            "Inventory.Stock.reserve",
            "--json",
        ],
    );
    assert!(
        defs.as_array()
            .unwrap()
            .iter()
            .any(|s| s["symbol"] == "Inventory.Stock.reserve/4"
                && s["path"] == "lib/inventory/stock.ex"),
        "{defs}"
    );
    // Without its module (or with its last alias only), as people write it, or as
    // Erlang spells it.
    for written in [
        "reserve/4",
        "Stock.reserve",
        "Elixir.Inventory.Stock.reserve/4",
    ] {
        let found = json(d, &["symbols", "--offline", "def", written, "--json"]);
        assert!(
            found
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["symbol"] == "Inventory.Stock.reserve/4"),
            "{written}: {found}"
        );
    }
    // A module filter: nested modules are in it; a module not indexed (here, by case)
    // is an error naming the one meant, while a real module with no match is no hits.
    let nested = json(
        d,
        &[
            "search",
            "--offline",
            "reserve",
            "--module",
            "Inventory",
            "--json",
        ],
    );
    assert!(!nested["hits"].as_array().unwrap().is_empty(), "{nested}");
    let args = [
        "search",
        "--offline",
        "reserve",
        "--module",
        "inventory.stock",
    ];
    common::fails_saying(
        &args,
        &aiex(d, &args),
        "indexed module not found: inventory.stock (did you mean Inventory.Stock",
    );
    // Modules only: a function is no `--module`.
    let args = [
        "search",
        "--offline",
        "reserve",
        "--module",
        "Inventory.Stock.Nope",
    ];
    let err = common::fails_saying(&args, &aiex(d, &args), "(did you mean Inventory.Stock");
    assert!(!err.contains('/'), "{err}");
    let none = json(
        d,
        &[
            "search",
            "--offline",
            "zzyzxq",
            "--module",
            "Inventory.Stock",
            "--json",
        ],
    );
    assert_eq!(none["hits"].as_array().unwrap().len(), 0, "{none}");
    // Callers take the name as `def` does: by its module's last segment, the one
    // function it names, with its call lines; a misspelt name is told what it may mean.
    let short = json(
        d,
        &[
            "symbols",
            "--offline",
            "callers",
            "Stock.reserve/4",
            "--json",
        ],
    );
    let short: Vec<(&str, &Value)> = (short.as_array().unwrap().iter())
        .map(|s| (s["symbol"].as_str().unwrap(), &s["call_lines"]))
        .collect();
    assert!(
        short
            .iter()
            .any(|(s, lines)| *s == "Inventory.reserve_order/3"
                && lines.as_array().is_some_and(|l| !l.is_empty())),
        "{short:?}"
    );
    let args = [
        "symbols",
        "--offline",
        "callers",
        "Inventory.Stock.reserv/4",
    ];
    common::fails_saying(
        &args,
        &aiex(d, &args),
        "did you mean Inventory.Stock.reserve/4",
    );
    // The delegate in `Inventory` and the order reservation both call it (`--offline`
    // is accepted after the subcommand too).
    let callers = json(
        d,
        &[
            "symbols",
            "callers",
            "Inventory.Stock.reserve/4",
            "--offline",
            "--json",
        ],
    );
    let caller_symbols: Vec<&str> = callers
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert!(
        caller_symbols.contains(&"Inventory.reserve/4"),
        "{caller_symbols:?}"
    );
    assert!(
        caller_symbols.contains(&"Inventory.reserve_order/3"),
        "{caller_symbols:?}"
    );
    // Each caller says where it calls: the lines and the first one's code; a delegate
    // calls on its own line.
    let at = |symbol: &str| {
        (callers.as_array().unwrap().iter())
            .find(|s| s["symbol"] == symbol)
            .unwrap_or_else(|| panic!("no {symbol}: {callers}"))
    };
    let order = at("Inventory.reserve_order/3");
    assert_eq!(order["start_line"], 41, "{order}");
    assert_eq!(order["call_lines"], json!([44]), "{order}");
    assert_eq!(
        order["call_text"], "case Stock.reserve(server, sku, quantity, opts) do",
        "{order}"
    );
    let delegate = at("Inventory.reserve/4");
    assert_eq!(delegate["call_lines"], json!([22]), "{delegate}");
    assert_eq!(
        delegate["call_text"],
        "defdelegate reserve(server, sku, quantity, opts \\\\ []), to: Stock",
        "{delegate}"
    );
    // A test that calls it twice: both lines, the first one's code.
    let twice = (callers.as_array().unwrap().iter())
        .find(|s| s["call_lines"] == json!([53, 54]))
        .unwrap_or_else(|| panic!("no caller on lines 53 and 54: {callers}"));
    assert_eq!(
        twice["call_text"], "{:ok, _short} = Stock.reserve(stock, \"TOY-0001\", 3, ttl: 0)",
        "{twice}"
    );
    // In text, a test that calls it is named once, by its place and its name.
    let args = [
        "symbols",
        "--offline",
        "callers",
        "Inventory.Stock.reserve/4",
        "--repo",
        "inventory",
    ];
    let out = aiex(d, &args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let test_line = (text.lines())
        .find(|l| l.starts_with("inventory/test/inventory/stock_test.exs:"))
        .unwrap_or_else(|| panic!("no test caller: {text}"));
    assert_eq!(
        test_line.matches("stock_test.exs").count(),
        1,
        "{test_line}"
    );
    // ... at the line it calls on, with that line's code, and the other lines it calls on.
    let twice = (text.lines())
        .find(|l| l.starts_with("inventory/test/inventory/stock_test.exs:53 "))
        .unwrap_or_else(|| panic!("no caller at line 53: {text}"));
    assert!(
        twice.contains("= Stock.reserve(stock, \"TOY-0001\", 3, ttl: 0)  (also 54)"),
        "{twice}"
    );
    let order = (text.lines())
        .find(|l| l.contains("Inventory.reserve_order/2..3"))
        .unwrap_or_else(|| panic!("no reserve_order: {text}"));
    assert!(
        order.starts_with(
            "inventory/lib/inventory.ex:44  Inventory.reserve_order/2..3  case Stock.reserve("
        ),
        "{order}"
    );
    // `--repo` names an indexed repository, as search's does.
    let args = [
        "symbols",
        "--offline",
        "def",
        "Inventory.Stock.reserve",
        "--repo",
        "nope",
    ];
    common::fails_saying(&args, &aiex(d, &args), "repository not found: nope");
    // A module's callers are those of its functions, from outside it.
    let users = json(
        d,
        &[
            "symbols",
            "--offline",
            "callers",
            "Inventory.Stock",
            "--json",
        ],
    );
    let users: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert!(users.contains(&"Inventory.reserve/4"), "{users:?}");
    assert!(
        users.iter().all(|s| !s.starts_with("Inventory.Stock.")),
        "{users:?}"
    );
    // A protocol's implementations, and theirs of one of its functions.
    let impls = json(
        d,
        &[
            "symbols",
            "--offline",
            "impls",
            "Inventory.Priceable",
            "--json",
        ],
    );
    let modules: Vec<&str> = (impls.as_array().unwrap().iter())
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(
        modules,
        [
            "Inventory.Priceable.Inventory.Item",
            "Inventory.Priceable.Map"
        ]
    );
    let args = [
        "symbols",
        "--offline",
        "impls",
        "Inventory.Priceable.unit_price/1",
        "--json",
    ];
    let prices = json(d, &args);
    let lines: Vec<(&str, u64)> = (prices.as_array().unwrap().iter())
        .map(|s| {
            (
                s["symbol"].as_str().unwrap(),
                s["start_line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("Inventory.Priceable.Inventory.Item.unit_price/1", 15),
            ("Inventory.Priceable.Map.unit_price/1", 19)
        ]
    );
    // GenServer is not indexed, and `Inventory.Stock` uses it.
    let servers = json(d, &["symbols", "--offline", "impls", "GenServer", "--json"]);
    assert_eq!(servers[0]["symbol"], "Inventory.Stock", "{servers}");
    // A module under a behaviour is no callback of it.
    let args = ["symbols", "--offline", "impls", "GenServer.Supervisor"];
    common::fails_saying(
        &args,
        &aiex(d, &args),
        "behaviour or protocol with indexed implementations not found: GenServer.Supervisor",
    );
    let args = ["symbols", "--offline", "impls", "Inventory.Pricable"];
    common::fails_saying(
        &args,
        &aiex(d, &args),
        "behaviour or protocol with indexed implementations not found: Inventory.Pricable (did you mean Inventory.Priceable",
    );
    // What it offers are behaviours and protocols, not a module spelled alike that
    // nothing implements.
    let args = ["symbols", "--offline", "impls", "Inventory.Stocks"];
    let out = aiex(d, &args);
    common::fails_saying(
        &args,
        &out,
        "behaviour or protocol with indexed implementations not found: Inventory.Stocks",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("Inventory.Stock,") && !err.contains("Inventory.Stock?"),
        "{err}"
    );
    // A function the indexed protocol does not declare (here a wrong arity) is no empty
    // answer: nothing could implement it.
    let args = [
        "symbols",
        "--offline",
        "impls",
        "Inventory.Priceable.unit_price/3",
    ];
    common::fails_saying(
        &args,
        &aiex(d, &args),
        "callback of an indexed behaviour or protocol not found: Inventory.Priceable.unit_price/3 (did you mean Inventory.Priceable.unit_price/1",
    );
    // GenServer is not indexed: its callbacks cannot be checked, and one no module
    // defines is an empty answer.
    let none = json(
        d,
        &[
            "symbols",
            "--offline",
            "impls",
            "GenServer.code_change/3",
            "--json",
        ],
    );
    assert_eq!(none, json!([]), "{none}");
    // A caller with default arguments is one entry at its whole arity, as printed.
    let order: Vec<&Value> = (callers.as_array().unwrap().iter())
        .filter(|s| {
            s["symbol"]
                .as_str()
                .unwrap()
                .starts_with("Inventory.reserve_order/")
        })
        .collect();
    assert_eq!(order.len(), 1, "{callers}");
    assert_eq!(order[0]["arities"], json!([2, 3]), "{callers}");

    let callees = json(
        d,
        &[
            "symbols",
            "--offline",
            "callees",
            "Inventory.reserve_order/3",
            "--json",
        ],
    );
    let reserve = (callees.as_array().unwrap().iter())
        .find(|s| s["symbol"] == "Inventory.Stock.reserve/4")
        .unwrap_or_else(|| panic!("no Stock.reserve/4: {callees}"));
    // Where it is defined, and the lines of reserve_order/3 that call it.
    assert_eq!(reserve["path"], "lib/inventory/stock.ex", "{reserve}");
    assert_eq!(reserve["call_lines"], json!([44]), "{reserve}");
    let args = [
        "symbols",
        "--offline",
        "callees",
        "Inventory.reserve_order/3",
    ];
    let out = aiex(d, &args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let line = (text.lines())
        .find(|l| l.contains("Inventory.Stock.reserve/"))
        .unwrap_or_else(|| panic!("no Stock.reserve: {text}"));
    assert!(
        line.starts_with("inventory/lib/inventory/stock.ex:")
            && line.ends_with("(called at line 44)"),
        "{line}"
    );
    // A callee that is not indexed is named, with where it is called too.
    assert!(
        text.lines()
            .any(|l| l == "Enum.reverse/1  (called at line 51)"),
        "{text}"
    );

    let map = json(
        d,
        &["symbols", "--offline", "map", "--tokens", "200", "--json"],
    );
    assert!(map["tokens"].as_u64().unwrap() <= 200);
    assert!(map["map"].as_str().unwrap().contains("lib/inventory/"));
    // A focus that names nothing indexed is an error, not the unfocused map.
    let args = ["symbols", "--offline", "map", "--focus", "Nosuch.thing/1"];
    common::fails_saying(&args, &aiex(d, &args), "Nosuch.thing/1");
    // The map of one repository; an unknown one is named.
    let mine = json(
        d,
        &[
            "symbols",
            "--offline",
            "map",
            "--repo",
            "inventory",
            "--json",
        ],
    );
    assert_eq!(
        mine["map"],
        json(d, &["symbols", "--offline", "map", "--json"])["map"]
    );
    let args = ["symbols", "--offline", "map", "--repo", "nosuch"];
    common::fails_saying(&args, &aiex(d, &args), "repository not found: nosuch");
}

#[test]
fn index_names_the_entries_it_passes_over() {
    use std::os::unix::ffi::OsStrExt;
    let data = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let lib = src.path().join("lib");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(
        lib.join("real.ex"),
        "defmodule Real do\n  def real_thing, do: :ok\nend\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(lib.join("real.ex"), lib.join("link.ex")).unwrap();
    std::fs::write(
        lib.join(std::ffi::OsStr::from_bytes(b"odd\xff.ex")),
        "defmodule Odd do\n  def quokka_hop, do: :ok\nend\n",
    )
    .unwrap();
    let src_arg = src.path().to_str().unwrap();

    let args = ["index", src_arg, "--name", "odd", "--json"];
    let out = aiex(data.path(), &args);
    let v = common::ok_json(&args, &out);
    let stats = &v["stats"];
    assert_eq!(stats["files_indexed"], 1, "{v}");
    assert_eq!(stats["files_passed_over"], 2, "{v}");
    let listed: Vec<&str> = stats["passed_over"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        listed
            .iter()
            .any(|e| e.ends_with("link.ex: a symbolic link (links are not followed)")),
        "{listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|e| e.ends_with(".ex: its name is not valid UTF-8")),
        "{listed:?}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: passed over") && stderr.contains("link.ex"),
        "{stderr}"
    );

    // Neither the link nor the odd name reached the index, under any path.
    let hits = json(
        data.path(),
        &["search", "--offline", "quokka_hop", "--json"],
    );
    assert_eq!(hits["hits"].as_array().map(Vec::len), Some(0), "{hits}");
    let hits = json(
        data.path(),
        &["search", "--offline", "real_thing", "--json"],
    );
    let mut paths: Vec<&str> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    paths.dedup();
    assert_eq!(paths, ["lib/real.ex"], "{hits}");

    // The text report says it too, on a run that changes nothing.
    let out = aiex(data.path(), &["index", src_arg, "--name", "odd"]);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 passed over (see the warnings)"),
        "{stdout}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("warning: passed over").count(),
        2,
        "{stderr}"
    );
}

/// Control characters in indexed code (an escape sequence that would recolour or clear
/// the user's terminal, a bell) are printed escaped in text output and kept as they are
/// in `--json`.
#[test]
fn control_characters_in_indexed_code_do_not_reach_the_terminal() {
    let data = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let project = src.path().join("tricky");
    std::fs::create_dir_all(project.join("lib")).unwrap();
    std::fs::write(
        project.join("lib/tricky.ex"),
        "defmodule Tricky do\n  @doc \"Paints the banner.\"\n  def banner(x) do\n    \"\u{1b}[2J\u{1b}[31mbanner\u{7}\" <> x\n  end\nend\n",
    )
    .unwrap();
    let d = data.path();
    json(d, &["index", project.to_str().unwrap(), "--json"]);
    let file = project.join("lib/tricky.ex");
    for args in [
        vec!["search", "--offline", "banner"],
        vec!["chunk", file.to_str().unwrap()],
    ] {
        let out = aiex(d, &args);
        assert!(out.status.success(), "{args:?}: {out:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{args:?}: {text:?}"
        );
        if args[0] == "search" {
            assert!(text.contains("\\x1b[2J\\x1b[31mbanner\\x07"), "{text}");
        }
    }
    let hits = json(d, &["search", "--offline", "banner", "--json"]);
    let snippet = hits["hits"][0]["snippet"].as_str().unwrap();
    assert!(
        snippet.contains("\u{1b}[2J\u{1b}[31mbanner\u{7}"),
        "{snippet:?}"
    );
}

/// Code in a file a tool wrote says so: its hits carry the tag `generated`, in the text
/// after the kind and in `--json`; a question ranks the project's own code first.
#[test]
fn hits_in_generated_files_say_so() {
    let data = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let project = src.path().join("editor");
    std::fs::create_dir_all(project.join("lib/protocol")).unwrap();
    std::fs::write(
        project.join("lib/protocol/save_reason.ex"),
        "# codegen: do not edit\ndefmodule Protocol.SaveReason do\n  @doc \"Parse again after a delay, once the user stops typing.\"\n  def after_delay, do: 2\nend\n",
    )
    .unwrap();
    std::fs::write(
        project.join("lib/parser.ex"),
        "defmodule Parser do\n  @doc \"Parses the document again after a delay, once typing stops.\"\n  def debounce(doc), do: doc\nend\n",
    )
    .unwrap();
    let d = data.path();
    json(d, &["index", project.to_str().unwrap(), "--json"]);
    let question = "parse again after a delay once the user stops typing";
    let hits = json(d, &["search", "--offline", question, "--json"]);
    let symbols: Vec<&str> = (hits["hits"].as_array().unwrap().iter())
        .map(|h| h["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(
        symbols[..2],
        ["Parser.debounce/1", "Protocol.SaveReason.after_delay/0"],
        "{hits}"
    );
    assert_eq!(hits["hits"][0]["tags"], json!([]), "{hits}");
    assert_eq!(hits["hits"][1]["tags"], json!(["generated"]), "{hits}");
    let out = aiex(
        d,
        &["search", "--offline", "Protocol.SaveReason.after_delay"],
    );
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("Protocol.SaveReason.after_delay/0")
                && l.contains("function, generated")),
        "{text}"
    );
}

/// Two checkouts with the same directory name: the second is refused (it would delete
/// the first one's files from the index) until it gets its own name or `--replace`.
#[test]
fn a_second_directory_with_the_same_name_does_not_replace_the_first() {
    let data = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let d = data.path();
    let first = src.path().join("one/app");
    let second = src.path().join("two/app");
    for (dir, module) in [(&first, "First"), (&second, "Second")] {
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(
            dir.join(format!("lib/{}.ex", module.to_lowercase())),
            format!("defmodule {module} do\n  def hello(x), do: x\nend\n"),
        )
        .unwrap();
    }
    let first_s = first.to_str().unwrap();
    let second_s = second.to_str().unwrap();
    json(d, &["index", first_s, "--json"]);
    let args = ["index", second_s];
    let err = common::fails_saying(&args, &aiex(d, &args), "repository `app` was indexed from");
    assert!(err.contains("--name") && err.contains("--replace"), "{err}");
    // Nothing was lost, and the same directory indexes again as before.
    let hits = json(d, &["search", "--offline", "First.hello", "--json"]);
    assert_eq!(hits["hits"][0]["symbol"], "First.hello/1", "{hits}");
    json(d, &["index", first_s, "--json"]);
    // Under its own name, beside the first.
    let beside = json(d, &["index", second_s, "--name", "app2", "--json"]);
    assert_eq!(beside["stats"]["files_indexed"], 1, "{beside}");
    for (symbol, repo) in [("First.hello", "app"), ("Second.hello", "app2")] {
        let hits = json(d, &["search", "--offline", symbol, "--json"]);
        assert_eq!(hits["hits"][0]["repository"], repo, "{hits}");
    }
    // In its place, when asked.
    let replaced = json(d, &["index", second_s, "--replace", "--json"]);
    assert_eq!(replaced["stats"]["files_deleted"], 1, "{replaced}");
    let hits = json(
        d,
        &[
            "search",
            "--offline",
            "First.hello",
            "--repo",
            "app",
            "--json",
        ],
    );
    assert!(
        hits["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["symbol"] != "First.hello/1"),
        "{hits}"
    );
    // A repository whose last file went is still known: no hits, not "not found".
    std::fs::remove_file(second.join("lib/second.ex")).unwrap();
    let emptied = json(d, &["index", second_s, "--json"]);
    assert_eq!(emptied["stats"]["files_deleted"], 1, "{emptied}");
    let hits = json(
        d,
        &[
            "search",
            "--offline",
            "Second.hello",
            "--repo",
            "app",
            "--json",
        ],
    );
    assert!(hits["hits"].as_array().unwrap().is_empty(), "{hits}");
    // Offline, repositories are listed and one removed, its directory forgotten: the other
    // checkout indexes under the name again.
    let listed = json(d, &["repo", "list", "--offline", "--json"]);
    let names: Vec<&str> = (listed.as_array().unwrap().iter())
        .filter_map(|r| r["repo"].as_str())
        .collect();
    assert_eq!(names, ["app2"], "{listed}");
    let removed = json(d, &["repo", "rm", "app2", "--offline", "--json"]);
    assert_eq!(removed, json!({"removed": "app2", "files": 1}));
    let args = ["search", "--offline", "Second.hello"];
    common::fails_saying(&args, &aiex(d, &args), "aiex index");
    let args = ["repo", "add", second_s, "--offline"];
    common::fails_saying(&args, &aiex(d, &args), "aiex index PATH");
    json(d, &["index", first_s, "--name", "app2", "--json"]);
    let hits = json(d, &["search", "--offline", "First.hello", "--json"]);
    assert_eq!(hits["hits"][0]["repository"], "app2", "{hits}");
    let args = ["repo", "rm", "gone", "--offline"];
    common::fails_saying(&args, &aiex(d, &args), "no repository `gone`");
}

/// An index created with another partition count is read and updated with that count
/// without `--partitions`; a different explicit count is refused, naming both.
#[test]
fn the_partition_count_comes_from_the_index() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let sample = sample();
    let sample = sample.to_str().unwrap();
    json(d, &["--partitions", "8", "index", sample, "--json"]);
    let hits = json(
        d,
        &["search", "--offline", "Inventory.Stock.reserve", "--json"],
    );
    assert!(!hits["hits"].as_array().unwrap().is_empty(), "{hits}");
    let again = json(d, &["index", sample, "--json"]);
    assert_eq!(again["stats"]["files_indexed"], 0, "{again}");
    let args = ["--partitions", "4", "index", sample];
    common::fails_saying(&args, &aiex(d, &args), "created with 8 partitions");
}

#[test]
fn chunk_shows_how_aiex_sees_a_file_without_an_index() {
    let data = tempfile::tempdir().unwrap();
    let file = sample().join("lib/inventory/pricing.ex");
    let chunks = json(data.path(), &["chunk", file.to_str().unwrap(), "--json"]);
    let chunks = chunks.as_array().unwrap();
    assert!(
        chunks
            .iter()
            .any(|c| c["kind"] == "module_header" && c["module"] == "Inventory.Priceable")
    );
    assert!(chunks.iter().any(|c| c["kind"] == "guard"));
    // The chunks tile the file.
    let len = std::fs::metadata(&file).unwrap().len();
    let mut at = 0;
    for c in chunks {
        assert_eq!(c["start_byte"].as_u64().unwrap(), at);
        at = c["end_byte"].as_u64().unwrap();
    }
    assert_eq!(at, len);
    // The text lists calls with a module, and apart those without one, which the index
    // resolves through imports.
    let bare = data.path().join("bare.ex");
    std::fs::write(
        &bare,
        "defmodule Bare do\n  import String\n  def f(x) do\n    if x, do: trim(x), else: trim(x) |> Enum.sort()\n  end\nend\n",
    )
    .unwrap();
    let out = aiex(data.path(), &["chunk", bare.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("calls Enum.sort/1"), "{text}");
    assert!(text.contains("bare  trim/1\n"), "once: {text}");
    assert!(
        text.contains("`bare` calls have no module here; an index resolves them"),
        "{text}"
    );

    let missing = aiex(data.path(), &["chunk", "/no/such/file.ex"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/no/such/file.ex"));

    // What is not a regular file is refused before it is opened (a FIFO would wait for a
    // writer, a device never end); so is a file over the limit.
    let fifo = data.path().join("pipe.ex");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    for (args, says) in [
        (vec!["chunk", fifo.to_str().unwrap()], "a named pipe (FIFO)"),
        (vec!["chunk", "/dev/zero"], "a device"),
        (vec!["chunk", data.path().to_str().unwrap()], "a directory"),
        (
            vec!["chunk", file.to_str().unwrap(), "--max-file-bytes", "100"],
            "over the 100-byte limit",
        ),
        // A budget of nothing would make a chunk of every line.
        (
            vec!["chunk", file.to_str().unwrap(), "--budget", "0"],
            "must be at least 1",
        ),
        (
            vec!["index", sample().to_str().unwrap(), "--budget", "0"],
            "must be at least 1",
        ),
    ] {
        common::fails_saying(&args, &aiex(data.path(), &args), says);
    }
}

#[test]
fn bad_arguments_are_named() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    // An empty directory is indexed, with a warning that nothing of it can be searched;
    // an empty file has no chunks, and says so.
    let empty = tempfile::tempdir().unwrap();
    let args = ["index", empty.path().to_str().unwrap(), "--name", "empty"];
    let out = aiex(d, &args);
    assert!(out.status.success(), "{out:?}");
    assert!(
        common::stderr(&out).contains("warning: no file found to index in empty"),
        "{out:?}"
    );
    // A directory whose only file is skipped (a credential) says nothing can be searched.
    let secret = tempfile::tempdir().unwrap();
    std::fs::write(
        secret.path().join("server.pem"),
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let args = ["index", secret.path().to_str().unwrap(), "--name", "secret"];
    let out = aiex(d, &args);
    assert!(out.status.success(), "{out:?}");
    assert!(
        common::stderr(&out).contains(
            "warning: none of the 1 file found in secret could be indexed (each was skipped"
        ),
        "{out:?}"
    );
    std::fs::write(empty.path().join("blank.ex"), "").unwrap();
    let blank = empty.path().join("blank.ex");
    let out = aiex(d, &["chunk", blank.to_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&out.stdout).ends_with("blank.ex: no chunks (the file is empty)\n"),
        "{out:?}"
    );
    json(d, &["index", sample().to_str().unwrap(), "--json"]);
    // A long name is named by its start and length, not echoed whole.
    let long = "r".repeat(500);
    let args = ["search", "--offline", "stock", "--repo", long.as_str()];
    let err = common::fails_saying(&args, &aiex(d, &args), "… (500 bytes)");
    assert!(!err.contains(&long), "{err}");
    // Refused while parsing the arguments, before any index or gateway is involved.
    for args in [
        &["search", "--offline", "stock", "--limit", "0"][..],
        &["search", "stock", "--limit", "0"],
        &["search", "--offline", "stock", "--limit", "1001"],
    ] {
        let out = aiex(d, args);
        common::fails_saying(args, &out, "--limit");
    }
    // Budgets the gateway would refuse, or read as "the default", are refused here; none
    // wraps around.
    for tokens in ["0", "1000001", "4294967396"] {
        let args = ["symbols", "--offline", "map", "--tokens", tokens];
        common::fails_saying(&args, &aiex(d, &args), "--tokens");
    }
    let args = ["search", "--offline", "stock", "--kind", "fn"];
    common::fails_saying(&args, &aiex(d, &args), "unknown chunk kind `fn`");
    // A mistyped symbol is named, with what it may have meant.
    for look_up in ["def", "callers", "callees"] {
        let args = [
            "symbols",
            "--offline",
            look_up,
            "Inventory.Stock.reservee/4",
        ];
        common::fails_saying(
            &args,
            &aiex(d, &args),
            "did you mean Inventory.Stock.reserve/4",
        );
    }
    // A function named without its module, or by its module's last segment and without
    // an arity, is the one it names, as `def` takes it: the arities a default argument
    // makes are one function (`def line_total(unit_price, quantity, discounts \\ [])`).
    for (look_up, short, full) in [
        (
            "callers",
            "Pricing.line_total",
            "Inventory.Pricing.line_total",
        ),
        (
            "callees",
            "Pricing.line_total",
            "Inventory.Pricing.line_total",
        ),
        ("callees", "order_total", "Inventory.Pricing.order_total/2"),
    ] {
        let json = |symbol: &str| {
            let args = ["symbols", "--offline", look_up, symbol, "--json"];
            common::ok_json(&args, &aiex(d, &args))
        };
        let (by_short, by_full) = (json(short), json(full));
        assert_eq!(by_short, by_full, "{look_up} {short}");
        assert!(
            by_full.to_string().contains("Inventory.Pricing."),
            "{look_up} {full}: {by_full}"
        );
    }
    // A repository that is not indexed is named, not an empty result.
    for args in [
        &["search", "--offline", "stock", "--repo", "nosuch"][..],
        &["context", "--offline", "reserve stock", "--repo", "nosuch"],
    ] {
        let err = common::fails_saying(args, &aiex(d, args), "repository not found: nosuch");
        assert!(
            err.contains("inventory"),
            "the indexed ones are listed: {err}"
        );
    }
    // The whole file system is no project.
    let args = ["index", "/", "--name", "everything"];
    common::fails_saying(&args, &aiex(d, &args), "root of the file system");
    let sample = sample();
    let args = ["index", sample.to_str().unwrap(), "--name", "../x"];
    common::fails_saying(&args, &aiex(d, &args), "repository");
    // The operating system's reason once, not once per wrapping error.
    let reason = std::fs::metadata("/no/such/dir").unwrap_err().to_string();
    for args in [
        &["index", "/no/such/dir"][..],
        &["index", "/no/such/dir", "--name", "x"],
    ] {
        let err = common::fails_saying(args, &aiex(d, args), "/no/such/dir");
        assert_eq!(err.matches(&reason).count(), 1, "{err}");
    }
    for look_up in ["def", "callers", "callees"] {
        for symbol in [
            " ",
            "Foo.",
            "/2",
            "Foo.bar/x",
            "Enum.map/-1",
            "Enum.map/+2",
            "Enum.map/256",
            "Enum.map/99999999999999999999",
            " Enum.map/2",
            "Enum. map/2",
        ] {
            let args = ["symbols", "--offline", look_up, symbol];
            common::fails_saying(&args, &aiex(d, &args), "name a symbol");
        }
        // Operators are symbols too.
        for symbol in [
            "Kernel.../2",
            "Kernel.//2",
            "Kernel./",
            "Kernel...//",
            "Kernel.<>/2",
            "Kernel.-/1",
            "Kernel.!/1",
            "Kernel.@/1",
            "Access.at!/1",
            "Kernel.sigil_r/2",
            "Enum.empty?/1",
        ] {
            let args = ["symbols", "--offline", look_up, symbol];
            let out = aiex(d, &args);
            // Well formed, but neither defined nor called here: said so, not taken for a
            // symbol without callers.
            let err = common::fails_saying(&args, &out, "not found");
            assert!(!err.contains("name a symbol"), "{err}");
        }
    }
    // Cluster roles: settings refused before anything starts.
    for (args, needle) in [
        (
            &[
                "node",
                "--nats",
                "nats://127.0.0.1:1",
                "--stream-replicas",
                "9",
            ][..],
            "--stream-replicas",
        ),
        (
            &["gateway", "--nats", "nats://127.0.0.1:1", "--replicas", "0"],
            "--replicas must be at least 1",
        ),
        (
            &[
                "node",
                "--nats",
                "nats://127.0.0.1:1",
                "--listen",
                "0.0.0.0:0",
            ],
            "--advertise",
        ),
    ] {
        common::fails_saying(args, &aiex(d, args), needle);
    }
}

#[test]
fn a_peer_that_is_not_a_gateway_fails_the_command_with_a_message() {
    // Takes every connection and says nothing, as a hung gateway would.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in silent.incoming() {
            held.push(stream);
        }
    });
    // Answers with HTTP/1.1 and hangs up, as a web server on the wrong port would. The
    // client's writes then meet a closed socket: SIGPIPE must not end it silently.
    let http1 = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let http1_addr = format!("http://{}", http1.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in http1.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut buf = [0u8; 1024];
            let _ = std::io::Read::read(&mut stream, &mut buf);
            let _ = std::io::Write::write_all(
                &mut stream,
                b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
            );
        }
    });
    let mut runs: Vec<Vec<&str>> = vec![
        vec!["--addr", silent_addr.as_str(), "repo", "list"],
        vec!["--addr", silent_addr.as_str(), "search", "reserve stock"],
    ];
    for _ in 0..8 {
        runs.push(vec!["--addr", http1_addr.as_str(), "repo", "list"]);
    }
    for args in &runs {
        // `common::aiex` kills the command (and fails the test) if it does not end.
        let out = common::aiex(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "aiex {args:?} did not exit with an error (killed by a signal?): {out:?}"
        );
        let err = common::fails_saying(args, &out, "connection to the gateway failed");
        // Only an upload has work to resume.
        assert!(!err.contains("uploads resume"), "{err}");
    }
    // TLS is asked for, and this client does not speak it: refused, never plain text.
    let https = format!("https://{}", http1_addr.trim_start_matches("http://"));
    let args = ["--addr", https.as_str(), "repo", "list"];
    common::fails_saying(&args, &common::aiex(&args), "does not speak");
}

/// `search --offline` finds a function a `use` defines, as the gateway does, and says
/// whose `quote` wrote it, in text and in JSON; and one a `for` names after what a
/// function of another file returns, with the code of the `for`.
#[test]
fn search_offline_finds_functions_a_use_defines_or_a_for_names() {
    let data = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let write = |rel: &str, content: &str| {
        let path = src.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    };
    write(
        "lib/base.ex",
        "defmodule Shop.Base do\n  defmacro __using__(_opts) do\n    quote do\n      def fetch(id), do: {__MODULE__, id}\n    end\n  end\nend\n",
    );
    write(
        "lib/repo.ex",
        "defmodule Shop.Repo do\n  use Shop.Base\nend\n",
    );
    // And one a `for` names after what a function of another file returns.
    write(
        "lib/units.ex",
        "defmodule Shop.Units do\n  def all, do: [:grams, :litres]\nend\n",
    );
    write(
        "lib/measure.ex",
        "defmodule Shop.Measure do\n  for unit <- Shop.Units.all() do\n    def unquote(unit)(n), do: {unquote(unit), n}\n  end\nend\n",
    );
    let d = data.path();
    json(
        d,
        &[
            "index",
            src.path().to_str().unwrap(),
            "--name",
            "shop",
            "--json",
        ],
    );
    let found = json(d, &["search", "--offline", "Shop.Repo.fetch", "--json"]);
    let top = &found["hits"][0];
    assert_eq!(
        (&top["symbol"], &top["generated_by"], &top["path"]),
        (
            &json!("Shop.Repo.fetch/1"),
            &json!("Shop.Base"),
            &json!("lib/repo.ex")
        ),
        "{found}"
    );
    let out = aiex(d, &["search", "--offline", "Shop.Repo.fetch"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        top["quoted_at"],
        json!({"symbol": "Shop.Base.__using__/1", "repository": "shop",
               "path": "lib/base.ex", "start_line": 4, "end_line": 4}),
        "{found}"
    );
    assert!(
        text.contains("shop/lib/repo.ex:1  Shop.Repo.fetch/1  function")
            && text.contains(
                "defined by use Shop.Base: def fetch(id)  (quoted at shop/lib/base.ex:4)"
            ),
        "{text}"
    );
    // `symbols def` says where the quote is too.
    let def = aiex(d, &["symbols", "--offline", "def", "Shop.Repo.fetch/1"]);
    assert!(
        String::from_utf8_lossy(&def.stdout)
            .contains("(defined by use Shop.Base, quoted at shop/lib/base.ex:4)"),
        "{def:?}"
    );
    let named = json(d, &["search", "--offline", "Shop.Measure.litres", "--json"]);
    let top = &named["hits"][0];
    assert_eq!(
        (
            &top["symbol"],
            &top["path"],
            &top["signature"],
            &top["generated_by"],
            &top["named_after"]
        ),
        (
            &json!("Shop.Measure.litres/1"),
            &json!("lib/measure.ex"),
            &json!("def litres(n)"),
            &json!(null),
            &json!("Shop.Units.all/0")
        ),
        "{named}"
    );
    let out = aiex(d, &["search", "--offline", "Shop.Measure.litres"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("shop/lib/measure.ex:3  Shop.Measure.litres/1  function")
            && text.contains("named after Shop.Units.all/0: def litres(n)")
            && text.contains("def unquote(unit)(n)"),
        "{text}"
    );
    // `symbols def` says whose list names it.
    let def = aiex(d, &["symbols", "--offline", "def", "Shop.Measure.grams/1"]);
    assert!(
        String::from_utf8_lossy(&def.stdout).contains(
            "shop/lib/measure.ex:3  Shop.Measure.grams/1  def grams(n)  (named after Shop.Units.all/0)"
        ),
        "{def:?}"
    );
    let def = json(
        d,
        &[
            "symbols",
            "--offline",
            "def",
            "Shop.Measure.grams/1",
            "--json",
        ],
    );
    assert_eq!(def[0]["named_after"], json!("Shop.Units.all/0"), "{def}");
    // A written function's hits say nothing of the kind; a header lists its `use`s.
    let written = json(d, &["search", "--offline", "Shop.Base", "--json"]);
    assert_eq!(written["hits"][0]["generated_by"], json!(null), "{written}");
    let header = json(d, &["search", "--offline", "Shop.Repo", "--json"]);
    assert_eq!(
        (&header["hits"][0]["kind"], &header["hits"][0]["uses"]),
        (&json!("module_header"), &json!(["Shop.Base"])),
        "{header}"
    );
}

/// A question with a model, over an offline index built without one, is ranked by
/// keywords alone, as with no model at all: the command says so on stderr (its JSON
/// stays clean), and an index built with the model says nothing of the kind.
#[test]
fn a_model_without_embeddings_in_the_index_is_said() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let sample = sample();
    let sample = sample.to_str().unwrap();
    let model = aiex_tests::embed_model();
    let model = model.to_str().unwrap();
    common::ok_json(
        &["index"],
        &aiex(d, &["index", sample, "--name", "inventory", "--json"]),
    );
    let question = "cancel a reservation and return units to stock";
    let args = [
        "search",
        "--offline",
        "--embed-model",
        model,
        question,
        "--json",
    ];
    let out = aiex(d, &args);
    let hits = common::ok_json(&args, &out);
    assert!(!hits["hits"].as_array().unwrap().is_empty(), "{hits}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("holds no embeddings") && err.contains("--embed-model"),
        "{err}"
    );
    // Keywords alone, as the note says: the same hits and scores as with no model.
    let bare = ["search", "--offline", question, "--json"];
    let without = common::ok_json(&bare, &aiex(d, &bare));
    assert_eq!(hits["hits"], without["hits"]);
    let index = [
        "index",
        sample,
        "--name",
        "inventory",
        "--embed-model",
        model,
    ];
    let out = aiex(d, &index);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = aiex(d, &args);
    common::ok_json(&args, &out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("holds no embeddings"), "{err}");
    // The other way round: embeddings in the index, no model given. A question says so;
    // an identifier query, which embeddings do not rank, does not.
    let args = ["search", "--offline", question, "--json"];
    let out = aiex(d, &args);
    common::ok_json(&args, &out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the offline index holds embeddings, but no --embed-model is given"),
        "{err}"
    );
    let args = ["search", "--offline", "Inventory.Stock.release/2", "--json"];
    let out = aiex(d, &args);
    common::ok_json(&args, &out);
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

/// Files left out of an index are named, not only counted: `--json` lists them by path
/// with why (`stats.skipped`), stderr names the first few, and the bytes indexed leave
/// out a file over the size limit, which is never read. A search hit points at its first
/// line of text, not the blank line its chunk starts with. `--threads 0` and a context
/// budget under 64 tokens are refused by the flag's name.
#[test]
fn skipped_files_are_named_and_hits_point_at_text() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let proj = tempfile::tempdir().unwrap();
    let p = proj.path();
    std::fs::create_dir_all(p.join("lib")).unwrap();
    std::fs::create_dir_all(p.join("priv")).unwrap();
    let small = concat!(
        "defmodule Shop do\n",
        "  def total(order) do\n",
        "    order.lines |> Enum.map(fn line -> line.price * line.quantity end) |> Enum.sum()\n",
        "  end\n",
        "\n",
        "\n",
        "  @doc \"Refunds an order.\"\n",
        "  def refund(order) do\n",
        "    Enum.reduce(order.payments, order, fn payment, acc -> Payments.reverse(acc, payment) end)\n",
        "  end\n",
        "end\n",
    );
    std::fs::write(p.join("lib/shop.ex"), small).unwrap();
    let huge = format!("defmodule Huge do\n{}end\n", "  # filler\n".repeat(500));
    std::fs::write(p.join("lib/huge.ex"), &huge).unwrap();
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0";
    std::fs::write(p.join("priv/logo.png"), png).unwrap();
    std::fs::write(p.join(".env"), "API_KEY=abc\n").unwrap();
    let root = p.to_str().unwrap();
    // Under the default size limit the large file is indexed; under a lower one it is
    // skipped, and its indexed version removed: deleted.
    let before = json(d, &["index", root, "--name", "shop", "--json"]);
    assert_eq!(before["stats"]["files_indexed"], 2, "{before}");
    let args = [
        "index",
        root,
        "--name",
        "shop",
        "--max-file-bytes",
        "2000",
        "--json",
    ];
    let out = aiex(d, &args);
    let v = common::ok_json(&args, &out);
    let stats = &v["stats"];
    let skipped: Vec<&str> = (stats["skipped"].as_array())
        .unwrap_or_else(|| panic!("no skipped list: {v}"))
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(skipped.len(), 3, "{skipped:?}");
    assert!(
        skipped[0].starts_with(".env: credentials file"),
        "{skipped:?}"
    );
    assert_eq!(
        skipped[1],
        format!(
            "lib/huge.ex: file of {} bytes is over the 2000-byte limit (--max-file-bytes)",
            huge.len()
        )
    );
    assert_eq!(skipped[2], "priv/logo.png: binary file or image");
    assert_eq!(v["files_passed_over"], 0, "{v}");
    assert_eq!(v["files_deleted"], 1, "{v}");
    assert!(stats.get("failed").is_none(), "{v}");
    // Read: every file but the one over the limit.
    let read = small.len() + png.len() + "API_KEY=abc\n".len();
    assert_eq!(stats["bytes"], read as u64, "{v}");
    let err = common::stderr(&out);
    assert!(err.contains("skipped lib/huge.ex: file of"), "{err}");

    // The refund function's chunk starts at the blank lines after `total/1`.
    let hits = json(d, &["search", "--offline", "refund", "--json"]);
    let top = &hits["hits"][0];
    assert_eq!(top["symbol"], "Shop.refund/1", "{hits}");
    let line = top["start_line"].as_u64().unwrap() as usize;
    let text = small.lines().nth(line - 1).unwrap();
    assert_eq!(text, "  @doc \"Refunds an order.\"", "{hits}");

    let zero = ["index", root, "--threads", "0"];
    common::fails_saying(&zero, &aiex(d, &zero), "--threads");
    let low = ["context", "--offline", "refund", "--budget", "10"];
    common::fails_saying(&low, &aiex(d, &low), "--budget");
}

/// A function one `quote` writes into every module that `use`s it calls what the quote
/// calls, from each module: the text shows three of them and counts the rest, `--json`
/// lists them all.
#[test]
fn callers_a_quote_writes_into_many_modules_are_counted_past_three() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let proj = tempfile::tempdir().unwrap();
    let p = proj.path();
    std::fs::create_dir_all(p.join("lib/checks")).unwrap();
    std::fs::write(
        p.join("lib/check.ex"),
        concat!(
            "defmodule Lint.Check do\n",
            "  @callback run(term) :: :ok\n",
            "  defmacro __using__(_opts) do\n",
            "    quote do\n",
            "      def id, do: Lint.Name.full(__MODULE__)\n",
            "    end\n",
            "  end\n",
            "end\n",
            "defmodule Lint.Name do\n",
            "  def full(module), do: inspect(module)\n",
            "  def unused, do: :ok\n",
            "end\n",
        ),
    )
    .unwrap();
    for i in 0..5 {
        std::fs::write(
            p.join(format!("lib/checks/c{i}.ex")),
            format!("defmodule Lint.Checks.C{i} do\n  use Lint.Check\nend\n"),
        )
        .unwrap();
    }
    // Two modules implementing callbacks: one of the indexed behaviour, one of GenServer.
    std::fs::write(
        p.join("lib/custom.ex"),
        concat!(
            "defmodule Lint.Custom do\n",
            "  @behaviour Lint.Check\n",
            "  @impl true\n",
            "  def run(_), do: :ok\n",
            "end\n",
            "defmodule Lint.Server do\n",
            "  use GenServer\n",
            "  @impl true\n",
            "  def terminate(_reason, _state), do: :ok\n",
            "end\n",
        ),
    )
    .unwrap();
    json(
        d,
        &["index", p.to_str().unwrap(), "--name", "lint", "--json"],
    );
    let args = ["symbols", "--offline", "callers", "Lint.Name.full/1"];
    let listed = json(d, &[&args[..], &["--json"]].concat());
    let callers: Vec<&str> = (listed.as_array().unwrap().iter())
        .map(|c| c["symbol"].as_str().unwrap())
        .collect();
    // The quote's own call is the `__using__/1` macro's, then each module's `id/0`.
    assert_eq!(callers.len(), 6, "{listed}");
    assert_eq!(callers[0], "Lint.Check.__using__/1");
    assert!(
        callers[1..].iter().all(|c| c.ends_with(".id/0")),
        "{callers:?}"
    );
    let out = aiex(d, &args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].contains("Lint.Check.__using__/1"), "{text}");
    assert!(
        lines[1..4]
            .iter()
            .all(|l| l.contains("(defined by use Lint.Check")),
        "{text}"
    );
    assert!(
        lines[4].starts_with(
            "... and 2 more modules' id/0 (defined by use Lint.Check, quoted at lint/lib/check.ex:"
        ),
        "{text}"
    );
    // A callback nobody calls by the behaviour's name: where its calls are.
    let args = ["symbols", "--offline", "callers", "Lint.Check.run/1"];
    let out = aiex(d, &args);
    assert!(out.status.success(), "{}", common::stderr(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "no indexed code calls Lint.Check.run/1 (it is a callback: code calls the functions \
         of the modules implementing it, which `aiex symbols impls Lint.Check.run/1` lists; \
         their callers are each their own)\n"
    );
    // A function implementing a callback: the behaviour calls it, indexed or not.
    for (symbol, callback) in [
        ("Lint.Custom.run/1", "Lint.Check.run/1"),
        ("Lint.Server.terminate/2", "GenServer.terminate/2"),
        // Any arity.
        ("Lint.Server.terminate", "GenServer.terminate/2"),
    ] {
        let args = ["symbols", "--offline", "callers", symbol];
        let out = aiex(d, &args);
        assert!(out.status.success(), "{}", common::stderr(&out));
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!(
                "no indexed code calls {symbol} (it implements the callback {callback}: the \
                 behaviour's code calls it, through the module it is given at run time, not \
                 by this name)\n"
            )
        );
        // With --json: the empty list, and the note on stderr.
        let args = ["symbols", "--offline", "callers", symbol, "--json"];
        let out = aiex(d, &args);
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
        assert!(
            common::stderr(&out).contains(&format!("it implements the callback {callback}")),
            "{}",
            common::stderr(&out)
        );
    }
    // A function nobody calls: no hint.
    let args = ["symbols", "--offline", "callers", "Lint.Name.unused/0"];
    let out = aiex(d, &args);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "no indexed code calls Lint.Name.unused/0\n"
    );
}

/// `impls` of a function a `use`d module's quote writes, overridden by a module that
/// uses it, answers that module though no `@callback` declares it; a name nothing
/// declares or implements is not found.
#[test]
fn impls_of_an_overridable_quoted_function_without_a_callback() {
    let data = tempfile::tempdir().unwrap();
    let d = data.path();
    let proj = tempfile::tempdir().unwrap();
    let p = proj.path();
    std::fs::create_dir_all(p.join("lib")).unwrap();
    std::fs::write(
        p.join("lib/worker.ex"),
        concat!(
            "defmodule Jobs.Worker do\n",
            "  defmacro __using__(_opts) do\n",
            "    quote do\n",
            "      def perform(args), do: {:ok, args}\n",
            "      defoverridable perform: 1\n",
            "    end\n",
            "  end\n",
            "end\n",
            "defmodule Jobs.Mailer do\n",
            "  use Jobs.Worker\n",
            "  def perform(args), do: {:sent, args}\n",
            "end\n",
        ),
    )
    .unwrap();
    json(
        d,
        &["index", p.to_str().unwrap(), "--name", "jobs", "--json"],
    );
    let found = json(
        d,
        &[
            "symbols",
            "--offline",
            "impls",
            "Jobs.Worker.perform/1",
            "--json",
        ],
    );
    let symbols: Vec<&str> = (found.as_array().unwrap().iter())
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(symbols, ["Jobs.Mailer.perform/1"], "{found}");
    let args = ["symbols", "--offline", "impls", "Jobs.Worker.perfrom/1"];
    common::fails_saying(&args, &aiex(d, &args), "not found: Jobs.Worker.perfrom/1");
}

/// A module's caller that calls its functions through an `import` gets those calls'
/// lines, as one that names the module does (libcluster's `Cluster.Logger`).
#[test]
fn a_modules_callers_through_an_import_have_call_lines() {
    let data = tempfile::tempdir().unwrap();
    let src = tempfile::tempdir().unwrap();
    let d = data.path();
    std::fs::create_dir_all(src.path().join("lib")).unwrap();
    std::fs::write(
        src.path().join("lib/log.ex"),
        "defmodule Shop.Log do\n  def debug(x), do: x\n  def warn(x), do: x\nend\n",
    )
    .unwrap();
    std::fs::write(
        src.path().join("lib/a.ex"),
        "defmodule Shop.A do\n  import Shop.Log\n\n  def run(x) do\n    y = x + 1\n    debug(y)\n    warn(y)\n  end\n\n  def named(x), do: Shop.Log.debug(x)\nend\n",
    )
    .unwrap();
    json(d, &["index", src.path().to_str().unwrap(), "--json"]);
    let callers = json(
        d,
        &["symbols", "callers", "Shop.Log", "--offline", "--json"],
    );
    let lines = |symbol: &str| {
        (callers.as_array().unwrap().iter())
            .find(|c| c["symbol"] == symbol)
            .map(|c| c["call_lines"].clone())
            .unwrap_or_else(|| panic!("{symbol}: {callers}"))
    };
    assert_eq!(lines("Shop.A.run/1"), json!([6, 7]), "{callers}");
    assert_eq!(lines("Shop.A.named/1"), json!([10]), "{callers}");
}
