//! The embedded mode end to end, with real processes: `aiex up` on a free port and a
//! temporary data directory, the client commands talking to it over gRPC, and the server
//! stopped with SIGTERM or killed with SIGKILL and started again on the same data.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use common::{
    Generated, Server, aiex, fails_saying, hit_symbols, hits, num, ok_json, stderr, top_hit,
};
use serde_json::Value;

const RELEASE_QUERY: &str = "cancel a reservation and return units to stock";

/// A copy of the sample project in `<tmp>/inventory` (so its default name is `inventory`);
/// returns its path and how many files it has.
fn inventory_copy(tmp: &Path) -> (std::path::PathBuf, u64) {
    let dir = tmp.join("inventory");
    common::copy_dir(&common::sample(), &dir);
    let files = common::files_under(&dir);
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with("_build/") || f.starts_with("deps/")),
        "the sample holds build output its .gitignore would skip: {files:?}"
    );
    (dir, files.len() as u64)
}

fn add(server: &Server, dir: &Path) -> Value {
    server.json(&["repo", "add", dir.to_str().unwrap(), "--json"])
}

/// A search answer without its timing, for comparing two answers.
fn search(server: &Server, query: &str, extra: &[&str]) -> Value {
    let mut args = vec!["search", query, "--json"];
    args.extend_from_slice(extra);
    let mut answer = server.json(&args);
    answer
        .as_object_mut()
        .expect("a JSON object")
        .remove("took_micros");
    answer
}

fn symbols(server: &Server, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["symbols"];
    all.extend_from_slice(args);
    all.push("--json");
    server.json(&all).as_array().expect("a JSON array").clone()
}

fn assert_ready(status: &Value, files: u64) {
    assert_eq!(status["state"], "ready", "{status}");
    assert_eq!(num(status, "files_indexed"), files, "{status}");
    assert_eq!(num(status, "files_failed"), 0, "{status}");
}

#[test]
fn up_add_search_update_delete_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let (dir, n) = inventory_copy(tmp.path());
    let server = Server::start(&data);

    // First upload: everything is new, and the command returns once it is indexed.
    let first = add(&server, &dir);
    assert_eq!(first["repository"], "inventory", "{first}");
    assert_ready(&first, n);
    assert_eq!(num(&first, "files_seen"), n, "{first}");
    assert_eq!(num(&first, "files_unchanged"), 0, "{first}");
    assert_eq!(num(&first, "files_deleted"), 0, "{first}");
    assert_eq!(num(&first["client"], "files_sent"), n, "{first}");
    let chunks = num(&first, "chunks");
    assert!(chunks > 50, "{first}");

    let found = search(&server, RELEASE_QUERY, &[]);
    let top = &top_hit(&found);
    assert_eq!(top["symbol"], "Inventory.Stock.release/2", "{found}");
    assert_eq!(top["path"], "lib/inventory/stock.ex", "{found}");
    assert_eq!(top["repository"], "inventory", "{found}");
    assert_eq!(found["missing_partitions"], serde_json::json!([]));

    let status = server.json(&["repo", "status", "inventory", "--json"]);
    assert_ready(&status, n);
    assert_eq!(num(&status, "files_seen"), n, "{status}");
    assert_eq!(num(&status, "files_unchanged"), 0, "{status}");
    assert_eq!(num(&status, "files_deleted"), 0, "{status}");
    assert_eq!(num(&status, "chunks"), chunks, "{status}");

    let defs = symbols(&server, &["def", "Inventory.Stock.reserve"]);
    assert!(
        defs.iter()
            .any(|s| s["symbol"] == "Inventory.Stock.reserve/4"
                && s["path"] == "lib/inventory/stock.ex"
                && s["repository"] == "inventory"),
        "{defs:?}"
    );
    // Written without the module, through the gateway too.
    let defs = symbols(&server, &["def", "Stock.reserve/4"]);
    assert_eq!(defs.len(), 1, "{defs:?}");
    assert_eq!(defs[0]["symbol"], "Inventory.Stock.reserve/4", "{defs:?}");
    // A module filter naming no indexed module is an error that names it, not nothing.
    let args = ["search", "reserve", "--module", "inventory.stock"];
    common::fails_saying(
        &args,
        &server.run(&args),
        "indexed module not found: inventory.stock (did you mean Inventory.Stock",
    );
    let listed = symbols(&server, &["callers", "Inventory.Stock.reserve/4"]);
    let callers: Vec<&str> = listed
        .iter()
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert!(callers.contains(&"Inventory.reserve/4"), "{callers:?}");
    assert!(
        callers.contains(&"Inventory.reserve_order/3"),
        "{callers:?}"
    );
    // Through the gateway too, a caller says where it calls (the definition is at 41).
    let order = (listed.iter())
        .find(|s| s["symbol"] == "Inventory.reserve_order/3")
        .unwrap();
    assert_eq!(order["call_lines"], serde_json::json!([44]), "{order}");
    assert_eq!(
        order["call_text"], "case Stock.reserve(server, sku, quantity, opts) do",
        "{order}"
    );
    // And a callee, where the asked function calls it.
    let callees = symbols(&server, &["callees", "Inventory.reserve_order/3"]);
    let reserve = (callees.iter())
        .find(|s| s["symbol"] == "Inventory.Stock.reserve/4")
        .unwrap_or_else(|| panic!("no Stock.reserve/4: {callees:?}"));
    assert_eq!(reserve["call_lines"], serde_json::json!([44]), "{reserve}");
    // A server callback is called where its message is sent.
    let served = symbols(&server, &["callers", "Inventory.Stock.handle_call/3"]);
    let available = (served.iter())
        .find(|s| s["symbol"] == "Inventory.Stock.available/2")
        .unwrap_or_else(|| panic!("no available/2: {served:?}"));
    assert_eq!(
        available["call_lines"],
        serde_json::json!([52]),
        "{available}"
    );
    assert_eq!(
        available["call_text"], "GenServer.call(server, {:available, sku})",
        "{available}"
    );
    // Starting the server runs its `init/1`: the start is its caller.
    let started = symbols(&server, &["callers", "Inventory.Stock.init/1"]);
    let start = (started.iter())
        .find(|s| s["symbol"] == "Inventory.Stock.start_link/1")
        .unwrap_or_else(|| panic!("no start_link: {started:?}"));
    assert_eq!(start["call_lines"], serde_json::json!([35]), "{start}");
    assert_eq!(
        start["call_text"], "GenServer.start_link(__MODULE__, opts, name: name)",
        "{start}"
    );
    // The protocol's implementations of one of its functions, through the gateway.
    let impls = symbols(&server, &["impls", "Inventory.Priceable.unit_price/1"]);
    let impls: Vec<&str> = (impls.iter())
        .map(|s| s["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(
        impls,
        [
            "Inventory.Priceable.Inventory.Item.unit_price/1",
            "Inventory.Priceable.Map.unit_price/1"
        ]
    );

    let cluster = server.json(&["cluster", "status", "--json"]);
    let members = cluster["members"].as_array().unwrap();
    assert_eq!(members.len(), 1, "{cluster}");
    let me = &members[0];
    assert_eq!(me["ready"], true, "{cluster}");
    let partitions = num(&cluster, "partition_count");
    assert!(partitions >= 1, "{cluster}");
    assert_eq!(num(me, "partitions_owned"), partitions, "{cluster}");
    let placement = cluster["placement"].as_array().unwrap();
    assert_eq!(placement.len() as u64, partitions, "{cluster}");
    assert!(
        placement.iter().all(|p| p["owner"] == me["node_id"]),
        "{cluster}"
    );
    assert_eq!(
        me["grpc_address"].as_str().unwrap(),
        server.addr.trim_start_matches("http://"),
        "{cluster}"
    );
    // `--addr` takes `IP:PORT` as `aiex up --listen` does, without `http://`.
    let bare = server.addr.trim_start_matches("http://");
    let args = ["--addr", bare, "cluster", "status", "--json"];
    let out = aiex(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let again = ok_json(&args, &out);
    assert_eq!(again["members"][0]["node_id"], me["node_id"], "{again}");

    // Change one file: only it is published again, and its new function is searchable.
    let report = dir.join("lib/inventory/report.ex");
    let text = std::fs::read_to_string(&report).unwrap();
    let body = text.trim_end().strip_suffix("end").expect("module ends");
    std::fs::write(
        &report,
        format!(
            "{body}\n  @doc \"Counts the quokka zeppelins parked in the warehouse.\"\n  \
             def quokka_zeppelin_count(items), do: length(items)\nend\n"
        ),
    )
    .unwrap();
    let quokka = "Inventory.Report.quokka_zeppelin_count/1";
    assert!(
        !hit_symbols(&search(&server, "quokka zeppelin", &[])).contains(&quokka.to_string()),
        "found before it was added"
    );
    let changed = add(&server, &dir);
    assert_ready(&changed, n);
    assert_eq!(num(&changed, "files_seen"), n, "{changed}");
    assert_eq!(num(&changed, "files_unchanged"), n - 1, "{changed}");
    assert_eq!(num(&changed, "files_deleted"), 0, "{changed}");
    let found = search(&server, "quokka zeppelin", &[]);
    let top = &top_hit(&found);
    assert_eq!(top["symbol"], quokka, "{found}");
    assert_eq!(top["path"], "lib/inventory/report.ex", "{found}");
    let defs = symbols(&server, &["def", quokka]);
    assert_eq!(defs.len(), 1, "{defs:?}");

    // Delete a file: it is tombstoned and its functions leave search and the graph.
    let discount = "Inventory.Pricing.apply_discount/2";
    let found = search(&server, "apply_discount", &[]);
    assert!(
        hit_symbols(&found).contains(&discount.to_string()),
        "{found}"
    );
    std::fs::remove_file(dir.join("lib/inventory/pricing.ex")).unwrap();
    let deleted = add(&server, &dir);
    assert_ready(&deleted, n - 1);
    assert_eq!(num(&deleted, "files_seen"), n - 1, "{deleted}");
    assert_eq!(num(&deleted, "files_unchanged"), n - 1, "{deleted}");
    assert_eq!(num(&deleted, "files_deleted"), 1, "{deleted}");
    assert!(
        num(&deleted, "chunks") < num(&changed, "chunks"),
        "{deleted}"
    );
    let found = search(&server, "apply_discount", &[]);
    assert!(
        hits(&found)
            .iter()
            .all(|h| h["path"] != "lib/inventory/pricing.ex"
                && !h["symbol"].as_str().unwrap().contains("apply_discount")),
        "{found}"
    );
    // Gone, and said so (a symbol neither defined nor called is NOT_FOUND).
    let args = ["symbols", "def", discount];
    fails_saying(&args, &server.run(&args), "indexed definition not found");

    // Stop gracefully; a new server on the same data answers exactly the same.
    let listed = server.json(&["repo", "list", "--json"]);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    let queries = [
        RELEASE_QUERY,
        "quokka zeppelin",
        "reserve stock",
        "format cents",
    ];
    let answers: Vec<Value> = queries.iter().map(|q| search(&server, q, &[])).collect();
    let status = server.json(&["repo", "status", "inventory", "--json"]);
    let exit = server.terminate();
    let log = Server::log_of(&data);
    assert!(exit.success(), "SIGTERM: {exit}; log:\n{log}");
    assert!(log.contains("stopped"), "{log}");
    let server = Server::start(&data);

    assert_eq!(server.json(&["repo", "list", "--json"]), listed);
    for (q, before) in queries.iter().zip(&answers) {
        assert_eq!(&search(&server, q, &[]), before, "after a restart: {q}");
    }
    let after = server.json(&["repo", "status", "inventory", "--json"]);
    assert_eq!(after, status);
    assert_ready(&after, n - 1);

    // Nothing is indexed again after the restart.
    let again = add(&server, &dir);
    assert_ready(&again, n - 1);
    assert_eq!(num(&again, "files_unchanged"), n - 1, "{again}");
    assert_eq!(num(&again, "files_deleted"), 0, "{again}");
    assert_eq!(num(&again, "chunks"), num(&deleted, "chunks"), "{again}");

    // A callback nobody calls by the behaviour's name: the answer says where its calls
    // are, through the gateway as offline.
    let lint = tmp.path().join("lint");
    std::fs::create_dir_all(lint.join("lib")).unwrap();
    std::fs::write(
        lint.join("lib/check.ex"),
        "defmodule Lint.Check do\n  @callback run(term) :: :ok\nend\n",
    )
    .unwrap();
    assert_ready(&add(&server, &lint), 1);
    let args = ["symbols", "callers", "Lint.Check.run/1"];
    let out = server.run(&args);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stdout).starts_with(
            "no indexed code calls Lint.Check.run/1 (it is a callback: code calls the functions"
        ),
        "{out:?}"
    );
    // An empty directory is added, with a warning that nothing of it can be searched.
    let empty = tmp.path().join("void");
    std::fs::create_dir_all(&empty).unwrap();
    let out = server.run(&["repo", "add", empty.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("warning: no file found to index in void"),
        "{out:?}"
    );
    // One whose only file the node skips (a credential) says nothing of it can be searched.
    let secret = tmp.path().join("vault");
    std::fs::create_dir_all(&secret).unwrap();
    std::fs::write(
        secret.join("server.pem"),
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    let out = server.run(&["repo", "add", secret.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("warning: none of the 1 file found in vault could be indexed"),
        "{out:?}"
    );
}

/// Every chunk of a generated repository, directory by directory (each directory holds
/// fewer chunks than a search may return), as comparable rows.
fn all_chunks(server: &Server, repo: &Generated) -> Vec<String> {
    let mut rows = Vec::new();
    for g in 0..repo.groups {
        let dir = Generated::group_dir(g);
        let answer = search(server, "zorblax", &["--path", &dir, "--limit", "1000"]);
        let found = hits(&answer);
        assert!(found.len() < 1000, "{dir} holds too many chunks to list");
        for h in found {
            rows.push(format!(
                "{} {} {} {}-{} {} {} {:?}",
                h["chunk_id"].as_str().unwrap(),
                h["path"].as_str().unwrap(),
                h["symbol"].as_str().unwrap(),
                h["start_line"],
                h["end_line"],
                h["kind"].as_str().unwrap(),
                h["signature"].as_str().unwrap(),
                h["snippet"].as_str().unwrap(),
            ));
        }
    }
    rows.sort();
    rows
}

#[test]
fn killed_mid_upload_the_server_resumes_and_matches_a_clean_index() {
    let tmp = tempfile::tempdir().unwrap();
    // 3,000 modules of about 3.3 KB (10 MB), 30 directories of 100 modules.
    let repo = Generated::write(&tmp.path().join("big"), 3000, 30, 8);
    let files = repo.files as u64;
    let path = repo.root.to_str().unwrap();
    let crashed = tmp.path().join("crashed");

    let server = Server::start(&crashed);
    let upload = server.spawn(&["repo", "add", path, "--no-wait", "--json"]);
    // Wait until the upload is underway (the gateway publishes in batches of a few
    // hundred files, so some are durable by now), then kill the server outright.
    let deadline = std::time::Instant::now() + common::COMMAND_TIMEOUT;
    loop {
        let out = server.run(&["repo", "status", "big", "--json"]);
        if out.status.success() {
            let status: Value = serde_json::from_slice(&out.stdout).unwrap();
            if num(&status, "files_seen") >= 600 {
                break;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never got going:\n{}",
            server.log()
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.kill_hard();
    let interrupted = common::wait_output(upload, &["repo", "add", path, "--no-wait"]);
    eprintln!(
        "the interrupted upload {}: {}",
        interrupted.status,
        common::stderr(&interrupted)
    );

    // Restart on the same data: once the log is applied the repository is incomplete,
    // and its status says what to do.
    let server = Server::start(&crashed);
    let deadline = std::time::Instant::now() + common::COMMAND_TIMEOUT;
    while server.json(&["repo", "status", "big", "--json"])["state"] != "incomplete" {
        assert!(std::time::Instant::now() < deadline, "never incomplete");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = server.run(&["repo", "status", "big"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("`aiex repo add PATH --name big` sends"),
        "{out:?}"
    );

    // Upload again: it completes, counting each file once.
    let resumed = server.json(&["repo", "add", path, "--json"]);
    eprintln!(
        "after the restart, {} files were already in the log",
        num(&resumed, "files_unchanged")
    );
    assert_ready(&resumed, files);
    assert_eq!(num(&resumed, "files_seen"), files, "{resumed}");
    assert_eq!(num(&resumed, "files_skipped"), 0, "{resumed}");

    // The reference: a clean upload of the same directory to a fresh server.
    let reference = Server::start(&tmp.path().join("reference"));
    let clean = reference.json(&["repo", "add", path, "--json"]);
    assert_ready(&clean, files);
    assert_eq!(num(&clean, "files_unchanged"), 0, "{clean}");

    let status = server.json(&["repo", "status", "big", "--json"]);
    let clean_status = reference.json(&["repo", "status", "big", "--json"]);
    for key in ["files_indexed", "chunks", "bytes"] {
        assert_eq!(
            status[key], clean_status[key],
            "{key}: {status} vs {clean_status}"
        );
    }
    assert!(
        num(&status, "chunks") >= files * repo.funs as u64,
        "{status}"
    );

    // The same chunks, each exactly once.
    let rows = all_chunks(&server, &repo);
    let clean_rows = all_chunks(&reference, &repo);
    assert_eq!(rows.len() as u64, num(&clean_status, "chunks"));
    let ids: HashSet<&str> = rows.iter().map(|r| r.split(' ').next().unwrap()).collect();
    assert_eq!(ids.len(), rows.len(), "duplicate chunks after the crash");
    if rows != clean_rows {
        let a: BTreeSet<&String> = rows.iter().collect();
        let b: BTreeSet<&String> = clean_rows.iter().collect();
        let only_crashed: Vec<_> = a.difference(&b).take(5).collect();
        let only_clean: Vec<_> = b.difference(&a).take(5).collect();
        panic!(
            "the recovered index differs from a clean one:\nonly after the crash: {only_crashed:#?}\nonly in the clean index: {only_clean:#?}"
        );
    }

    // Searching for a function by name finds it first, once, on both.
    for (i, j) in [
        (0, 0),
        (7, 3),
        (299, 7),
        (511, 1),
        (512, 2),
        (1023, 5),
        (1500, 4),
        (2047, 6),
        (2500, 0),
        (2999, 7),
    ] {
        let name = format!("m{i}f{j}");
        let symbol = repo.function(i, j);
        let answer = search(&server, &name, &[]);
        let clean_answer = search(&reference, &name, &[]);
        for a in [&answer, &clean_answer] {
            let symbols = hit_symbols(a);
            assert_eq!(symbols.first(), Some(&symbol), "{name}: {a}");
            assert_eq!(
                symbols.iter().filter(|s| **s == symbol).count(),
                1,
                "{name} found more than once: {a}"
            );
        }
        // Scores may differ a little: the recovered index can hold deleted documents (a
        // file indexed twice around the crash), which weigh in term statistics.
        let without_score = |h: &Value| {
            let mut h = h.clone();
            h.as_object_mut().unwrap().remove("score");
            h
        };
        assert_eq!(
            without_score(top_hit(&answer)),
            without_score(top_hit(&clean_answer)),
            "{name}"
        );
    }
}

#[test]
fn an_unreachable_gateway_says_how_to_start_one() {
    for args in [
        &["search", "x", "--addr", "http://127.0.0.1:1"][..],
        &["repo", "list", "--addr", "http://127.0.0.1:1"],
        &[
            "cluster",
            "status",
            "--json",
            "--addr",
            "http://127.0.0.1:1",
        ],
    ] {
        let out = common::aiex(args);
        let err = fails_saying(args, &out, "aiex up");
        assert!(err.contains("127.0.0.1:1"), "{err}");
    }
}

#[test]
fn concurrent_adds_of_one_repository() {
    let tmp = tempfile::tempdir().unwrap();
    // Large enough that the two uploads overlap at least sometimes.
    let repo = Generated::write(&tmp.path().join("twice"), 600, 6, 4);
    let files = repo.files as u64;
    let path = repo.root.to_str().unwrap();
    let server = Server::start(&tmp.path().join("data"));

    let args = ["repo", "add", path, "--json"];
    let first = server.spawn(&args);
    let second = server.spawn(&args);
    let outs = [
        common::wait_output(first, &args),
        common::wait_output(second, &args),
    ];
    let succeeded: Vec<Value> = outs
        .iter()
        .filter(|o| o.status.success())
        .map(|o| common::ok_json(&args, o))
        .collect();
    assert!(!succeeded.is_empty(), "neither add succeeded: {outs:?}");
    eprintln!("{} of the 2 concurrent adds succeeded", succeeded.len());
    for out in outs.iter().filter(|o| !o.status.success()) {
        fails_saying(&args, out, "already in progress");
    }
    for s in &succeeded {
        assert_eq!(num(s, "files_seen"), files, "{s}");
        assert_eq!(num(s, "files_failed"), 0, "{s}");
    }

    // The server is still healthy and the index is right.
    server.json(&["cluster", "status", "--json"]);
    let status = server.json(&["repo", "status", "twice", "--json"]);
    assert_ready(&status, files);
    assert!(
        num(&status, "chunks") >= files * repo.funs as u64,
        "{status}"
    );
    for (i, j) in [(0, 0), (299, 3), (599, 1)] {
        let answer = search(&server, &format!("m{i}f{j}"), &[]);
        let symbol = repo.function(i, j);
        let symbols = hit_symbols(&answer);
        assert_eq!(symbols.first(), Some(&symbol), "{answer}");
        assert_eq!(symbols.iter().filter(|s| **s == symbol).count(), 1);
    }
    let again = server.json(&args);
    assert_ready(&again, files);
    assert_eq!(num(&again, "files_unchanged"), files, "{again}");
}

#[test]
fn removing_a_repository() {
    let tmp = tempfile::tempdir().unwrap();
    let (dir, n) = inventory_copy(tmp.path());
    let server = Server::start(&tmp.path().join("data"));
    let added = add(&server, &dir);
    assert_ready(&added, n);
    let found = search(&server, RELEASE_QUERY, &[]);
    assert_eq!(top_hit(&found)["symbol"], "Inventory.Stock.release/2");

    let removed = server.json(&["repo", "rm", "inventory", "--json"]);
    assert_eq!(removed["repository"], "inventory");
    assert_eq!(num(&removed, "files_removed"), n, "{removed}");
    let found = search(&server, RELEASE_QUERY, &[]);
    assert!(
        hits(&found).iter().all(|h| h["repository"] != "inventory"),
        "{found}"
    );
    let args = ["symbols", "def", "Inventory.Stock.reserve"];
    fails_saying(&args, &server.run(&args), "indexed definition not found");
    assert_eq!(
        server.json(&["repo", "list", "--json"]),
        serde_json::json!([])
    );

    let args = ["repo", "rm", "inventory"];
    fails_saying(&args, &server.run(&args), "not found");
    let args = ["repo", "status", "inventory", "--json"];
    fails_saying(&args, &server.run(&args), "not found");
    let args = ["repo", "status", "no_such_repo"];
    fails_saying(&args, &server.run(&args), "not found");

    // Adding it back indexes everything again.
    let back = add(&server, &dir);
    assert_ready(&back, n);
    assert_eq!(num(&back, "files_unchanged"), 0, "{back}");
    assert_eq!(num(&back, "chunks"), num(&added, "chunks"), "{back}");
    let found = search(&server, RELEASE_QUERY, &[]);
    assert_eq!(top_hit(&found)["symbol"], "Inventory.Stock.release/2");
}

#[test]
fn a_file_too_big_for_one_message_is_skipped_by_name_and_the_upload_goes_on() {
    // The gateway takes each file as one gRPC message (16 MiB by default): a larger file,
    // even under a raised --max-file-bytes, used to make it refuse the whole upload
    // without naming the file.
    let tmp = tempfile::tempdir().unwrap();
    let (dir, files) = inventory_copy(tmp.path());
    // Binary, so that once it gets through the server counts it without parsing 17 MiB
    // (the message limit is what is tested, not the chunker).
    std::fs::write(dir.join("huge.bin"), vec![0u8; 17 << 20]).unwrap();
    let path = dir.to_str().unwrap();
    // `repo add` with the file limit raised far above the message limit: the status
    // (asserted to have succeeded) and what the client printed on stderr.
    let add = |server: &Server, config: &[&str]| {
        let mut args = config.to_vec();
        args.extend([
            "repo",
            "add",
            path,
            "--max-file-bytes",
            "100000000",
            "--json",
        ]);
        let out = server.run(&args);
        let err = common::stderr(&out);
        assert!(out.status.success(), "{err}\nserver log:\n{}", server.log());
        (common::ok_json(&args, &out), err)
    };

    let server = Server::start(&tmp.path().join("data"));
    let (status, err) = add(&server, &[]);
    assert!(
        err.contains("skipping") && err.contains("huge.bin") && err.contains("max_request_bytes"),
        "the file and the limit are not named: {err}"
    );
    assert_eq!(num(&status["client"], "skipped_too_large"), 1, "{status}");
    // Every other file is indexed.
    assert_ready(&status, files);
    drop(server);

    // Raised in the config file that both the server and the client read, the limit lets
    // the file through.
    let config = tmp.path().join("aiex.toml");
    std::fs::write(
        &config,
        "[limits]\nmax_request_bytes = 33554432\nmax_file_bytes = 33554432\n",
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let server = Server::start_role(
        &tmp.path().join("data-raised"),
        &["--config", config, "up", "--listen", "127.0.0.1:0"],
    );
    let (status, err) = add(&server, &["--config", config]);
    assert!(!err.contains("skipping"), "{err}");
    assert_eq!(num(&status["client"], "skipped_too_large"), 0, "{status}");
    assert_eq!(num(&status["client"], "bytes_sent") >> 20, 17, "{status}");
    assert_ready(&status, files);
}
