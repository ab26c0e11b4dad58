//! A fake OpenAI-compatible provider for end-to-end tests: a real HTTP server (the LLM
//! layer's test server) answering in OpenAI's streaming wire format.

use std::path::Path;

use super::Server;
use super::llm_server::{Recorded, Reply, TestServer};

/// One OpenAI streamed answer made of `pieces`.
pub fn openai(pieces: &[&str]) -> Reply {
    let sse = |data: &str| format!("data: {data}\n\n");
    let mut out = vec![sse(
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
    )];
    for piece in pieces {
        out.push(sse(&format!(
            r#"{{"id":"c1","object":"chat.completion.chunk","model":"gpt-test","choices":[{{"index":0,"delta":{{"content":{}}},"finish_reason":null}}]}}"#,
            serde_json::to_string(piece).unwrap()
        )));
    }
    out.push(sse(
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    ));
    out.push(sse(
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}"#,
    ));
    out.push(sse("[DONE]"));
    Reply::stream("text/event-stream", out)
}

/// The fake provider, on a runtime of its own that serves while the test blocks.
pub struct Fake {
    pub server: TestServer,
    pub runtime: tokio::runtime::Runtime,
}

impl Fake {
    pub fn start(handler: impl Fn(usize, &Recorded) -> Reply + Send + Sync + 'static) -> Fake {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let server = runtime.block_on(TestServer::start(handler));
        Fake { server, runtime }
    }

    /// `aiex up` on `data` using this provider.
    pub fn up(&self, data: &Path) -> Server {
        self.up_env(data, &[])
    }

    /// [`Fake::up`] with more environment variables.
    pub fn up_env(&self, data: &Path, env: &[(&str, &str)]) -> Server {
        let mut all = vec![
            ("OPENAI_BASE_URL", self.server.url.as_str()),
            ("OPENAI_MODEL", "gpt-test"),
        ];
        all.extend_from_slice(env);
        Server::start_role_env(data, &["up", "--listen", "127.0.0.1:0"], &all)
    }

    /// The text of every message of request `i`.
    pub fn prompt(&self, i: usize) -> String {
        let request = &self.server.requests()[i];
        request.json()["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .map(|m| m["content"].as_str().unwrap_or("").to_string())
            .collect::<Vec<_>>()
            .join("\n")
    }
}
