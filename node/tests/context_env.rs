//! Credentials in the process environment never reach a prompt, even when the indexed
//! code holds them. One test alone in this binary: it sets environment variables, which
//! must not race with other threads reading the environment.

use aiex_node::chunk::{ChunkerConfig, FileChunks, chunk_file};
use aiex_node::context::{ContextBuilder, ContextRequest, TokenCounter};
use aiex_node::graph::SymbolGraph;

#[test]
fn environment_credentials_are_redacted_from_every_section() {
    let secrets = [
        ("AIEX_TEST_STRIPE_SECRET", "sk_live_51HxTestValue"),
        ("AIEX_TEST_DB_PASSWORD", "pa55w0rd-for-tests"),
        ("AIEX_TEST_GITHUB_TOKEN", "ghp_testtoken1234567890"),
        ("ANTHROPIC_API_KEY", "sk-ant-test-0123456789"),
    ];
    // SAFETY: this binary runs this one test; no other thread reads the environment.
    unsafe {
        for (k, v) in secrets {
            std::env::set_var(k, v);
        }
    }
    let src = format!(
        "defmodule Billing do\n  @moduledoc \"Keys: {}\"\n  def charge(amount) do\n    key = \"{}\"\n    pw = \"{}\"\n    helper(amount, key, pw, \"{}\")\n  end\n\n  def helper(a, k, p, t), do: {{a, k, p, t, \"{}\"}}\nend\n",
        secrets[0].1, secrets[0].1, secrets[1].1, secrets[2].1, secrets[3].1
    );
    let FileChunks::Chunked(chunks) = chunk_file(
        "billing",
        "lib/billing.ex",
        src.as_bytes(),
        &ChunkerConfig::default(),
    ) else {
        panic!("not chunked");
    };
    let graph = SymbolGraph::build(&chunks);
    let set_dir = tempfile::tempdir().unwrap();
    let set = aiex_node::ingest::PartitionSet::open(set_dir.path(), 2).unwrap();
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(repo.path().join("lib")).unwrap();
    std::fs::write(repo.path().join("lib/billing.ex"), &src).unwrap();
    set.ingest_dir("billing", repo.path(), &Default::default(), None)
        .unwrap();
    let ctx = ContextBuilder::new(&graph, &set, TokenCounter::for_model("gpt-4o"))
        .build(&ContextRequest {
            question: format!("why is {} here?", secrets[2].1),
            target: Some("Billing.charge/1".into()),
            budget: None,
            repositories: Vec::new(),
        })
        .unwrap();
    let prompt = ctx.render();
    assert!(prompt.contains("def charge(amount)"), "{prompt}");
    assert!(prompt.contains("[redacted]"));
    for (_, v) in secrets {
        assert!(!prompt.contains(v), "{v} leaked into:\n{prompt}");
    }
}
