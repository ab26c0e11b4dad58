//! The LLM provider layer against real HTTP servers speaking each provider's wire format:
//! request shape and auth, whole and streamed answers, 429 with Retry-After, 5xx retries,
//! timeouts, malformed bodies, cut streams (never retried once a token was sent),
//! failover chains, circuit breakers, rate limits under concurrency, cancellation, and
//! keys that never leak into errors or Debug output.

#[path = "llm/server.rs"]
mod server;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aiex_node::ErrorCode;
use aiex_node::llm::{
    BreakerState, ChatRequest, Completion, Event, FinishReason, GuardedProvider, Limits, LlmConfig,
    LlmError, Message, Provider, ProviderConfig, ProviderKind, Providers, Rate, complete,
};
use futures::StreamExt;
use server::{Recorded, Reply, TestServer};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

const KEY: &str = "sk-test-0123456789abcdef-SECRET";
const KEY_VAR: &str = "AIEX_TEST_LLM_KEY";
const TOKENS: [&str; 3] = ["Hel", "lo", " world"];

/// One provider's wire format, as its real API speaks it.
struct Fixture {
    kind: ProviderKind,
    model: &'static str,
    /// Appended to the server URL to make the provider's base_url.
    base_path: &'static str,
    stream_path: String,
    whole_path: String,
    content_type: &'static str,
    whole_body: &'static str,
    /// Streamed pieces; `first_token_piece` is the index of the one carrying "Hel".
    pieces: Vec<String>,
    first_token_piece: usize,
    error_body: &'static str,
    /// How a malformed streamed piece is framed.
    malformed_piece: &'static str,
    check_request: fn(&Recorded, bool),
}

fn sse(event: Option<&str>, data: &str) -> String {
    match event {
        Some(name) => format!("event: {name}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

fn openai() -> Fixture {
    let delta = |text: &str| {
        sse(
            None,
            &format!(
                r#"{{"id":"c1","object":"chat.completion.chunk","model":"gpt-test","choices":[{{"index":0,"delta":{{"content":{}}},"finish_reason":null}}]}}"#,
                serde_json::to_string(text).unwrap()
            ),
        )
    };
    let mut pieces = vec![sse(
        None,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
    )];
    pieces.extend(TOKENS.iter().map(|t| delta(t)));
    pieces.push(sse(
        None,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    ));
    pieces.push(sse(
        None,
        r#"{"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}"#,
    ));
    pieces.push(sse(None, "[DONE]"));
    Fixture {
        kind: ProviderKind::Openai,
        model: "gpt-test",
        base_path: "/v1",
        stream_path: "/v1/chat/completions".into(),
        whole_path: "/v1/chat/completions".into(),
        content_type: "text/event-stream",
        whole_body: r#"{"id":"c1","object":"chat.completion","model":"gpt-test","choices":[{"index":0,"message":{"role":"assistant","content":"Hello world"},"finish_reason":"stop"}],"usage":{"prompt_tokens":11,"completion_tokens":3,"total_tokens":14}}"#,
        pieces,
        first_token_piece: 1,
        error_body: r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#,
        malformed_piece: "data: {\"choices\": [\n\n",
        check_request: |r, stream| {
            assert_eq!(r.method, "POST");
            assert_eq!(
                r.header("authorization"),
                Some(format!("Bearer {KEY}").as_str())
            );
            let body = r.json();
            assert_eq!(body["model"], "gpt-test");
            assert_eq!(body["stream"], stream);
            assert_eq!(body["max_tokens"], 64);
            assert_eq!(body["messages"][0]["role"], "system");
            assert_eq!(body["messages"][0]["content"], "You are terse.");
            assert_eq!(body["messages"][1]["role"], "user");
            assert_eq!(body["messages"][1]["content"], "Explain MyApp.Cart.add/3");
            if stream {
                assert_eq!(body["stream_options"]["include_usage"], true);
            }
        },
    }
}

fn anthropic() -> Fixture {
    let delta = |text: &str| {
        sse(
            Some("content_block_delta"),
            &format!(
                r#"{{"type":"content_block_delta","index":0,"delta":{{"type":"text_delta","text":{}}}}}"#,
                serde_json::to_string(text).unwrap()
            ),
        )
    };
    let mut pieces = vec![
        sse(
            Some("message_start"),
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-test","stop_reason":null,"usage":{"input_tokens":11,"output_tokens":1}}}"#,
        ),
        sse(
            Some("content_block_start"),
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
        ),
        sse(Some("ping"), r#"{"type": "ping"}"#),
    ];
    pieces.extend(TOKENS.iter().map(|t| delta(t)));
    pieces.push(sse(
        Some("content_block_stop"),
        r#"{"type":"content_block_stop","index":0}"#,
    ));
    pieces.push(sse(
        Some("message_delta"),
        r#"{"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":3}}"#,
    ));
    pieces.push(sse(Some("message_stop"), r#"{"type":"message_stop"}"#));
    Fixture {
        kind: ProviderKind::Anthropic,
        model: "claude-test",
        base_path: "",
        stream_path: "/v1/messages".into(),
        whole_path: "/v1/messages".into(),
        content_type: "text/event-stream",
        whole_body: r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"Hello world"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":11,"output_tokens":3}}"#,
        pieces,
        first_token_piece: 3,
        error_body: r#"{"type":"error","error":{"type":"rate_limit_error","message":"Number of requests has exceeded your rate limit"}}"#,
        malformed_piece: "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\n\n",
        check_request: |r, stream| {
            assert_eq!(r.method, "POST");
            assert_eq!(r.header("x-api-key"), Some(KEY));
            assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
            assert_eq!(r.header("authorization"), None);
            let body = r.json();
            assert_eq!(body["model"], "claude-test");
            assert_eq!(body["stream"], stream);
            assert_eq!(body["max_tokens"], 64);
            assert_eq!(body["system"], "You are terse.");
            assert_eq!(body["messages"].as_array().unwrap().len(), 1);
            assert_eq!(body["messages"][0]["role"], "user");
            assert_eq!(body["messages"][0]["content"], "Explain MyApp.Cart.add/3");
        },
    }
}

fn gemini() -> Fixture {
    let chunk = |text: &str, finish: Option<&str>, output: u32| {
        let finish = finish.map_or(String::new(), |f| format!(r#","finishReason":"{f}""#));
        format!(
            "data: {{\"candidates\": [{{\"content\": {{\"parts\": [{{\"text\": {}}}],\"role\": \"model\"}}{finish},\"index\": 0}}],\"usageMetadata\": {{\"promptTokenCount\": 11,\"candidatesTokenCount\": {output},\"totalTokenCount\": {}}},\"modelVersion\": \"gemini-test\"}}\r\n\r\n",
            serde_json::to_string(text).unwrap(),
            11 + output
        )
    };
    Fixture {
        kind: ProviderKind::Gemini,
        model: "gemini-test",
        base_path: "/v1beta",
        stream_path: "/v1beta/models/gemini-test:streamGenerateContent?alt=sse".into(),
        whole_path: "/v1beta/models/gemini-test:generateContent".into(),
        content_type: "text/event-stream",
        whole_body: r#"{"candidates":[{"content":{"parts":[{"text":"Hello world"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":11,"candidatesTokenCount":3,"totalTokenCount":14},"modelVersion":"gemini-test"}"#,
        pieces: vec![
            chunk("Hel", None, 1),
            chunk("lo", None, 2),
            chunk(" world", Some("STOP"), 3),
        ],
        first_token_piece: 0,
        error_body: r#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#,
        malformed_piece: "data: {\"candidates\": [{\"content\"\r\n\r\n",
        check_request: |r, _stream| {
            assert_eq!(r.method, "POST");
            assert_eq!(r.header("x-goog-api-key"), Some(KEY));
            assert!(
                !r.path.contains("key="),
                "the key is a header, not in the URL"
            );
            let body = r.json();
            assert_eq!(body["contents"].as_array().unwrap().len(), 1);
            assert_eq!(body["contents"][0]["role"], "user");
            assert_eq!(
                body["contents"][0]["parts"][0]["text"],
                "Explain MyApp.Cart.add/3"
            );
            assert_eq!(
                body["systemInstruction"]["parts"][0]["text"],
                "You are terse."
            );
            assert_eq!(body["generationConfig"]["maxOutputTokens"], 64);
        },
    }
}

fn ollama() -> Fixture {
    let line = |text: &str| {
        format!(
            "{{\"model\":\"llama-test\",\"created_at\":\"2026-01-01T00:00:00Z\",\"message\":{{\"role\":\"assistant\",\"content\":{}}},\"done\":false}}\n",
            serde_json::to_string(text).unwrap()
        )
    };
    let mut pieces: Vec<String> = TOKENS.iter().map(|t| line(t)).collect();
    pieces.push("{\"model\":\"llama-test\",\"created_at\":\"2026-01-01T00:00:01Z\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done_reason\":\"stop\",\"done\":true,\"total_duration\":1000,\"prompt_eval_count\":11,\"eval_count\":3}\n".into());
    Fixture {
        kind: ProviderKind::Ollama,
        model: "llama-test",
        base_path: "",
        stream_path: "/api/chat".into(),
        whole_path: "/api/chat".into(),
        content_type: "application/x-ndjson",
        whole_body: r#"{"model":"llama-test","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"Hello world"},"done_reason":"stop","done":true,"prompt_eval_count":11,"eval_count":3}"#,
        pieces,
        first_token_piece: 0,
        error_body: r#"{"error":"server busy, please try again"}"#,
        malformed_piece: "{\"model\":\"llama-test\",\"message\":\n",
        check_request: |r, stream| {
            assert_eq!(r.method, "POST");
            assert_eq!(r.header("authorization"), None, "Ollama takes no key");
            let body = r.json();
            assert_eq!(body["model"], "llama-test");
            assert_eq!(body["stream"], stream);
            assert_eq!(body["options"]["num_predict"], 64);
            assert_eq!(body["messages"][0]["role"], "system");
            assert_eq!(body["messages"][1]["content"], "Explain MyApp.Cart.add/3");
        },
    }
}

fn env(var: &str) -> Option<String> {
    (var == KEY_VAR).then(|| KEY.to_owned())
}

fn provider_config(fx: &Fixture, server: &TestServer) -> ProviderConfig {
    let mut config = ProviderConfig::new(fx.kind.as_str(), fx.kind, fx.model);
    config.base_url = Some(format!("{}{}", server.url, fx.base_path));
    if fx.kind != ProviderKind::Ollama {
        config.key_env = Some(KEY_VAR.to_owned());
    }
    config.timeout_ms = 2_000;
    config.max_retries = 2;
    config.backoff_ms = 10;
    config.max_backoff_ms = 50;
    config
}

fn build(config: &ProviderConfig) -> GuardedProvider {
    config.build(&env).expect("the provider builds")
}

fn request(stream: bool) -> ChatRequest {
    let mut req = ChatRequest::new(vec![
        Message::system("You are terse."),
        Message::user("Explain MyApp.Cart.add/3"),
    ]);
    req.max_tokens = Some(64);
    req.stream = stream;
    req
}

fn hello() -> Completion {
    Completion {
        text: "Hello world".into(),
        input_tokens: 11,
        output_tokens: 3,
        finish_reason: FinishReason::Stop,
    }
}

/// Every event of a stream, and the error that ended it, if any.
async fn drain(provider: &dyn Provider, req: ChatRequest) -> (Vec<Event>, Option<LlmError>) {
    let mut stream = match provider.stream(req, CancellationToken::new()).await {
        Ok(stream) => stream,
        Err(e) => return (Vec::new(), Some(e)),
    };
    let mut events = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(event) => events.push(event),
            Err(e) => return (events, Some(e)),
        }
    }
    (events, None)
}

fn streamed(fx: &Fixture) -> Reply {
    Reply::stream(fx.content_type, fx.pieces.clone())
}

async fn non_streamed_success(fx: Fixture) {
    let body = fx.whole_body;
    let server = TestServer::start(move |_, _| Reply::json(200, body)).await;
    let provider = build(&provider_config(&fx, &server));
    let got = complete(&provider, request(false), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(got, hello());
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, fx.whole_path);
    (fx.check_request)(&requests[0], false);
}

async fn streamed_success(fx: Fixture) {
    // The server holds the rest of the stream until the test has seen the first token:
    // tokens reach the caller as they arrive, not when the body ends.
    let gate = Arc::new(Notify::new());
    let reply_gate = gate.clone();
    let (pieces, content_type, gate_at) =
        (fx.pieces.clone(), fx.content_type, fx.first_token_piece + 1);
    let server = TestServer::start(move |_, _| Reply::Stream {
        content_type,
        pieces: pieces.clone(),
        delay: Duration::from_millis(15),
        cut_after: None,
        gate: Some((gate_at, reply_gate.clone())),
        hold_open: None,
    })
    .await;
    let provider = build(&provider_config(&fx, &server));
    let mut stream = provider
        .stream(request(true), CancellationToken::new())
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the first token arrives before the stream ends");
    assert_eq!(first.unwrap().unwrap(), Event::Token("Hel".into()));
    gate.notify_one();
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        events.push(event.unwrap());
    }
    assert_eq!(
        events,
        vec![
            Event::Token("lo".into()),
            Event::Token(" world".into()),
            Event::Usage {
                input: 11,
                output: 3
            },
            Event::Done {
                finish_reason: FinishReason::Stop
            },
        ]
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].path, fx.stream_path);
    (fx.check_request)(&requests[0], true);
}

async fn rate_limited_then_success(fx: Fixture) {
    let (error_body, stream) = (fx.error_body, streamed(&fx));
    let stream = Arc::new(std::sync::Mutex::new(Some(stream)));
    let server = TestServer::start(move |n, _| match n {
        0 => Reply::json(429, error_body).with_header("retry-after", "1"),
        _ => stream.lock().unwrap().take().expect("only two requests"),
    })
    .await;
    let provider = build(&provider_config(&fx, &server));
    let started = Instant::now();
    let got = complete(&provider, request(true), CancellationToken::new())
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After: 1 was honoured (waited {:?})",
        started.elapsed()
    );
    assert_eq!(got, hello());
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[1].at - requests[0].at >= Duration::from_secs(1));
}

async fn server_error_then_success(fx: Fixture) {
    let stream = Arc::new(std::sync::Mutex::new(Some(streamed(&fx))));
    let server = TestServer::start(move |n, _| match n {
        0 => Reply::json(
            500,
            r#"{"error":{"message":"internal error","type":"server_error"}}"#,
        ),
        _ => stream.lock().unwrap().take().expect("only two requests"),
    })
    .await;
    let provider = build(&provider_config(&fx, &server));
    let got = complete(&provider, request(true), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(got, hello());
    assert_eq!(server.count(), 2, "the 500 was retried once");
}

async fn timeout(fx: Fixture) {
    let server = TestServer::start(|_, _| Reply::Silence(Duration::from_secs(5))).await;
    let mut config = provider_config(&fx, &server);
    config.timeout_ms = 300;
    config.max_retries = 1;
    let provider = build(&config);
    let started = Instant::now();
    let err = complete(&provider, request(true), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, LlmError::Timeout { provider, .. } if provider == fx.kind.as_str()),
        "{err:?}"
    );
    assert!(err.to_string().contains(fx.kind.as_str()), "{err}");
    assert!(
        err.to_string().ends_with("on each of 2 attempts"),
        "the error says every attempt waited: {err}"
    );
    assert_eq!(err.code(), ErrorCode::Unavailable);
    assert_eq!(server.count(), 2, "a timeout is retried");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the client did not wait for the server"
    );
}

async fn malformed(fx: Fixture) {
    let piece = fx.malformed_piece.to_owned();
    let content_type = fx.content_type;
    let server = TestServer::start(move |_, r| {
        if r.json().get("stream") == Some(&serde_json::Value::Bool(false))
            || r.path.contains(":generateContent")
        {
            Reply::json(200, "{\"choices\": [oops")
        } else {
            Reply::stream(content_type, vec![piece.clone()])
        }
    })
    .await;
    let provider = build(&provider_config(&fx, &server));
    for stream in [false, true] {
        let err = complete(&provider, request(stream), CancellationToken::new())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, LlmError::Malformed { provider, .. } if provider == fx.kind.as_str()),
            "stream={stream}: {err:?}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{}: malformed response", fx.kind.as_str())),
            "{message}"
        );
        assert_eq!(err.code(), ErrorCode::Internal);
    }
    assert_eq!(server.count(), 2, "malformed answers are not retried");
}

async fn stream_cut(fx: Fixture) {
    let (pieces, content_type, cut) =
        (fx.pieces.clone(), fx.content_type, fx.first_token_piece + 2);
    let server = TestServer::start(move |_, _| Reply::Stream {
        content_type,
        pieces: pieces.clone(),
        delay: Duration::from_millis(10),
        cut_after: Some(cut),
        gate: None,
        hold_open: None,
    })
    .await;
    let provider = build(&provider_config(&fx, &server));
    let (events, err) = drain(&provider, request(true)).await;
    assert_eq!(
        events,
        vec![Event::Token("Hel".into()), Event::Token("lo".into())]
    );
    let err = err.expect("the cut surfaces as an error");
    assert!(
        matches!(&err, LlmError::StreamDropped { provider } if provider == fx.kind.as_str()),
        "{err:?}"
    );
    assert_eq!(server.count(), 1, "never retried once tokens were sent");
}

macro_rules! provider_tests {
    ($($name:ident),*) => {$(
        mod $name {
            #[tokio::test]
            async fn non_streamed_success() {
                super::non_streamed_success(super::$name()).await;
            }
            #[tokio::test]
            async fn streamed_success() {
                super::streamed_success(super::$name()).await;
            }
            #[tokio::test]
            async fn rate_limited_429_waits_for_retry_after_then_succeeds() {
                super::rate_limited_then_success(super::$name()).await;
            }
            #[tokio::test]
            async fn server_error_is_retried() {
                super::server_error_then_success(super::$name()).await;
            }
            #[tokio::test]
            async fn timeout_is_retried_then_reported() {
                super::timeout(super::$name()).await;
            }
            #[tokio::test]
            async fn malformed_json_names_the_provider() {
                super::malformed(super::$name()).await;
            }
            #[tokio::test]
            async fn stream_cut_after_tokens_is_not_retried() {
                super::stream_cut(super::$name()).await;
            }
        }
    )*};
}

provider_tests!(openai, anthropic, gemini, ollama);

// ---- chains, breakers, limits, cancellation, keys, config ----

fn openai_on(server: &TestServer, name: &str) -> ProviderConfig {
    let fx = openai();
    let mut config = provider_config(&fx, server);
    config.name = name.to_owned();
    config
}

fn ok_stream() -> Reply {
    streamed(&openai())
}

#[tokio::test]
async fn chain_fails_over_within_one_request_before_the_first_token() {
    let failing =
        TestServer::start(|_, _| Reply::json(500, r#"{"error":{"message":"boom"}}"#)).await;
    let cut = TestServer::start(|_, _| Reply::Stream {
        content_type: "text/event-stream",
        pieces: openai().pieces,
        delay: Duration::ZERO,
        cut_after: Some(1), // the role chunk only: no token yet
        gate: None,
        hold_open: None,
    })
    .await;
    let answering = TestServer::start(|_, _| ok_stream()).await;
    let mut first = openai_on(&failing, "first");
    first.max_retries = 0;
    let mut second = openai_on(&cut, "second");
    second.max_retries = 0;
    let third = openai_on(&answering, "third");
    let config = LlmConfig {
        providers: vec![first, second, third],
        chains: [(
            "explain".to_owned(),
            vec!["first".into(), "second".into(), "third".into()],
        )]
        .into_iter()
        .collect(),
    };
    let providers = Providers::build(&config, &env).unwrap();
    let chain = providers.chain("explain");
    assert_eq!(chain.members(), ["first", "second", "third"]);
    let got = complete(chain.as_ref(), request(true), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(got, hello());
    assert_eq!((failing.count(), cut.count(), answering.count()), (1, 1, 1));
    // A task without its own chain uses the default one: every provider, in config order.
    assert_eq!(
        providers.chain("chat").members(),
        ["first", "second", "third"]
    );
}

#[tokio::test]
async fn chain_does_not_fail_over_once_a_token_was_sent() {
    let fx = openai();
    let cut_at = fx.first_token_piece + 1;
    let cutting = TestServer::start(move |_, _| Reply::Stream {
        content_type: "text/event-stream",
        pieces: openai().pieces,
        delay: Duration::ZERO,
        cut_after: Some(cut_at),
        gate: None,
        hold_open: None,
    })
    .await;
    let backup = TestServer::start(|_, _| ok_stream()).await;
    let config = LlmConfig {
        providers: vec![openai_on(&cutting, "a"), openai_on(&backup, "b")],
        chains: Default::default(),
    };
    let providers = Providers::build(&config, &env).unwrap();
    let (events, err) = drain(providers.chain("explain").as_ref(), request(true)).await;
    assert_eq!(events, vec![Event::Token("Hel".into())]);
    assert!(
        matches!(err, Some(LlmError::StreamDropped { ref provider }) if provider == "a"),
        "{err:?}"
    );
    assert_eq!((cutting.count(), backup.count()), (1, 0));
}

#[tokio::test]
async fn chain_reports_every_failure_when_all_fail() {
    let down = TestServer::start(|_, _| Reply::json(503, "overloaded")).await;
    let unauthorised =
        TestServer::start(|_, _| Reply::json(401, r#"{"error":{"message":"bad key"}}"#)).await;
    let mut a = openai_on(&down, "a");
    a.max_retries = 1;
    let b = openai_on(&unauthorised, "b");
    let config = LlmConfig {
        providers: vec![a, b],
        chains: Default::default(),
    };
    let providers = Providers::build(&config, &env).unwrap();
    let err = complete(
        providers.chain("explain").as_ref(),
        request(true),
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    let LlmError::ChainFailed { chain, errors } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(chain, "default");
    assert!(matches!(&errors[0], LlmError::Http { provider, status: 503, .. } if provider == "a"));
    assert!(matches!(&errors[1], LlmError::Http { provider, status: 401, .. } if provider == "b"));
    let message = err.to_string();
    assert!(
        message.contains("a: HTTP 503: overloaded") && message.contains("b: HTTP 401"),
        "{message}"
    );
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);
    assert_eq!(
        (down.count(), unauthorised.count()),
        (2, 1),
        "503 retried once, 401 not at all"
    );
}

/// Polls `condition` every 10 ms until it holds, failing after 10 s.
async fn wait_for(what: &str, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn circuit_breaker_opens_after_failures_and_half_opens_after_cool_down() {
    let healthy = Arc::new(AtomicBool::new(false));
    let server_healthy = healthy.clone();
    let server = TestServer::start(move |_, _| {
        if server_healthy.load(Ordering::SeqCst) {
            ok_stream()
        } else {
            Reply::json(500, "down")
        }
    })
    .await;
    let mut config = openai_on(&server, "flaky");
    config.max_retries = 0;
    config.breaker_failures = 3;
    config.breaker_cool_down_ms = 400;
    let backup_server = TestServer::start(|_, _| ok_stream()).await;
    let providers = Providers::build(
        &LlmConfig {
            providers: vec![config, openai_on(&backup_server, "backup")],
            chains: Default::default(),
        },
        &env,
    )
    .unwrap();
    let flaky = providers.provider("flaky").unwrap().clone();
    for _ in 0..3 {
        let err = complete(flaky.as_ref(), request(true), CancellationToken::new())
            .await
            .unwrap_err();
        assert!(matches!(err, LlmError::Http { status: 500, .. }), "{err:?}");
    }
    assert_eq!(flaky.breaker_state(), BreakerState::Open);
    for _ in 0..5 {
        let err = complete(flaky.as_ref(), request(true), CancellationToken::new())
            .await
            .unwrap_err();
        assert!(
            matches!(err, LlmError::CircuitOpen { ref provider, .. } if provider == "flaky"),
            "{err:?}"
        );
        assert_eq!(err.code(), ErrorCode::Unavailable);
    }
    assert_eq!(
        server.count(),
        3,
        "no request reaches the provider while the breaker is open"
    );

    // The chain skips the open breaker without touching the server.
    let got = complete(
        providers.chain("any").as_ref(),
        request(true),
        CancellationToken::new(),
    )
    .await
    .unwrap();
    assert_eq!(got, hello());
    assert_eq!((server.count(), backup_server.count()), (3, 1));

    // After the cool-down one probe goes through; it fails, and the breaker opens again.
    wait_for("the breaker to half-open", || {
        flaky.breaker_state() == BreakerState::HalfOpen
    })
    .await;
    complete(flaky.as_ref(), request(true), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(server.count(), 4);
    assert_eq!(flaky.breaker_state(), BreakerState::Open);

    // Next cool-down: the provider has recovered, the probe succeeds and closes it.
    healthy.store(true, Ordering::SeqCst);
    wait_for("the breaker to half-open again", || {
        flaky.breaker_state() == BreakerState::HalfOpen
    })
    .await;
    let got = complete(flaky.as_ref(), request(true), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(got, hello());
    assert_eq!(flaky.breaker_state(), BreakerState::Closed);
    assert_eq!(server.count(), 5);
}

/// The most requests the server saw in any window of `window` (each window starting at a
/// request's arrival).
fn busiest_window(requests: &[Recorded], window: Duration) -> usize {
    let mut times: Vec<Instant> = requests.iter().map(|r| r.at).collect();
    times.sort();
    (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t - times[i] < window)
                .count()
        })
        .max()
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_limit_holds_under_50_concurrent_requests() {
    let server = TestServer::start(|_, _| ok_stream()).await;
    let provider = Arc::new(build(&openai_on(&server, "limited")));
    let limit = 10;
    let window = Duration::from_secs(1);
    provider.limiter().set_limits(Limits {
        requests: Rate::new(limit, window),
        tokens: None,
    });
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let provider = provider.clone();
            tokio::spawn(async move {
                complete(provider.as_ref(), request(true), CancellationToken::new()).await
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), hello());
    }
    let requests = server.requests();
    assert_eq!(requests.len(), 50);
    let busiest = busiest_window(&requests, window);
    assert!(
        busiest <= limit as usize,
        "{busiest} requests in one window, limit {limit}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_limit_holds_under_concurrent_requests() {
    let server = TestServer::start(|_, _| ok_stream()).await;
    let provider = Arc::new(build(&openai_on(&server, "limited")));
    let window = Duration::from_secs(1);
    // Each request charges its prompt estimate (~14) plus max_tokens 236: 250 tokens, so
    // 1000 tokens a window is 4 requests a window.
    provider.limiter().set_limits(Limits {
        requests: None,
        tokens: Rate::new(1000, window),
    });
    let mut req = request(true);
    req.max_tokens = Some(250 - req.estimated_prompt_tokens());
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (provider, req) = (provider.clone(), req.clone());
            tokio::spawn(
                async move { complete(provider.as_ref(), req, CancellationToken::new()).await },
            )
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap(), hello());
    }
    let busiest = busiest_window(&server.requests(), window);
    assert!(
        busiest <= 4,
        "{busiest} requests of 250 tokens in one window, limit 1000 tokens"
    );

    // A request that could never fit the limit fails at once, naming the numbers.
    let mut huge = request(true);
    huge.max_tokens = Some(5_000);
    let err = complete(provider.as_ref(), huge, CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::OverTokenLimit { limit: 1000, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
    assert_eq!(server.count(), 16);
}

#[tokio::test]
async fn live_nodes_share_the_cluster_limits() {
    let server = TestServer::start(|_, _| ok_stream()).await;
    let mut config = openai_on(&server, "shared");
    config.rpm = Some(600);
    config.tpm = Some(90_000);
    let providers = Providers::build(
        &LlmConfig {
            providers: vec![config],
            chains: Default::default(),
        },
        &env,
    )
    .unwrap();
    let limiter = providers.provider("shared").unwrap().limiter();
    assert_eq!(
        limiter.current(),
        Limits::per_minute(Some(600), Some(90_000))
    );
    providers.set_live_nodes(4);
    assert_eq!(
        limiter.current(),
        Limits::per_minute(Some(150), Some(22_500))
    );
    providers.set_live_nodes(1000);
    assert_eq!(limiter.current(), Limits::per_minute(Some(1), Some(90)));
}

#[tokio::test]
async fn cancelling_or_dropping_the_stream_closes_the_request() {
    for drop_instead in [false, true] {
        let closed = Arc::new(Notify::new());
        let server_closed = closed.clone();
        let server = TestServer::start(move |_, _| Reply::Stream {
            content_type: "text/event-stream",
            pieces: openai().pieces[..2].to_vec(),
            delay: Duration::ZERO,
            cut_after: None,
            gate: None,
            hold_open: Some(server_closed.clone()),
        })
        .await;
        let provider = build(&openai_on(&server, "p"));
        let cancel = CancellationToken::new();
        let mut stream = provider
            .stream(request(true), cancel.clone())
            .await
            .unwrap();
        assert_eq!(
            stream.next().await.unwrap().unwrap(),
            Event::Token("Hel".into())
        );
        if drop_instead {
            drop(stream);
        } else {
            cancel.cancel();
            let err = stream.next().await.unwrap().unwrap_err();
            assert!(matches!(err, LlmError::Cancelled), "{err:?}");
            assert!(stream.next().await.is_none());
            drop(stream);
        }
        tokio::time::timeout(Duration::from_secs(10), closed.notified())
            .await
            .expect("the server saw the connection close");
        assert_eq!(server.count(), 1);
    }
}

#[tokio::test]
async fn cancelling_before_the_answer_stops_waiting() {
    let server = TestServer::start(|_, _| Reply::Silence(Duration::from_secs(30))).await;
    let provider = build(&openai_on(&server, "p"));
    let cancel = CancellationToken::new();
    let canceller = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        canceller.cancel();
    });
    let err = complete(&provider, request(true), cancel)
        .await
        .unwrap_err();
    assert!(matches!(err, LlmError::Cancelled), "{err:?}");
    assert_eq!(server.count(), 1, "a cancelled request is not retried");
}

#[tokio::test]
async fn keys_never_appear_in_errors_or_debug_output() {
    // The server echoes the key back, as some providers do in auth errors.
    let server = TestServer::start(|n, r| {
        let key = r.header("authorization").unwrap_or_default().to_owned();
        match n {
            0 => Reply::json(
                401,
                format!(r#"{{"error":{{"message":"Incorrect API key provided: {key}"}}}}"#),
            ),
            1 => Reply::stream(
                "text/event-stream",
                vec![format!("data: {{not json {key}\n\n")],
            ),
            _ => Reply::stream(
                "text/event-stream",
                vec![
                    format!(
                        r#"data: {{"error":{{"message":"key {key} revoked","type":"{key}"}}}}"#
                    ) + "\n\n",
                ],
            ),
        }
    })
    .await;
    let config = openai_on(&server, "leaky");
    let providers = Providers::build(
        &LlmConfig {
            providers: vec![config.clone()],
            chains: Default::default(),
        },
        &env,
    )
    .unwrap();
    let provider = providers.provider("leaky").unwrap();
    let mut errors = Vec::new();
    for _ in 0..3 {
        errors.push(
            complete(provider.as_ref(), request(true), CancellationToken::new())
                .await
                .unwrap_err(),
        );
    }
    assert!(matches!(errors[0], LlmError::Http { status: 401, .. }));
    assert!(matches!(errors[1], LlmError::Malformed { .. }));
    assert!(matches!(errors[2], LlmError::Provider { .. }));
    assert_eq!(server.count(), 3);
    for err in &errors {
        for shown in [err.to_string(), format!("{err:?}")] {
            assert!(!shown.contains(KEY), "key leaked: {shown}");
            assert!(shown.contains("[redacted]"), "{shown}");
        }
    }
    let http = config.http_provider(&env).unwrap();
    let key = config.resolve_key(&env).unwrap().unwrap();
    assert_eq!(key.expose(), KEY);
    for shown in [
        format!("{key}"),
        format!("{key:?}"),
        format!("{config:?}"),
        format!("{http:?}"),
        format!("{provider:?}"),
        format!("{providers:?}"),
        format!("{:?}", http.endpoint()),
    ] {
        assert!(!shown.contains(KEY), "key leaked: {shown}");
    }
    assert!(format!("{:?}", http.endpoint()).contains("[redacted]"));
}

#[test]
fn no_provider_configured_names_the_environment_variables() {
    let err = LlmConfig::from_vars(&|_| None).unwrap_err();
    assert!(matches!(err, LlmError::NotConfigured));
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);
    let message = err.to_string();
    for var in [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GEMINI_API_KEY",
        "OLLAMA_HOST",
    ] {
        assert!(message.contains(var), "{message}");
    }
    let err = Providers::build(&LlmConfig::default(), &|_| None).unwrap_err();
    assert!(matches!(err, LlmError::NotConfigured));
    let err = aiex_node::NodeError::from(err);
    assert_eq!(err.code(), ErrorCode::FailedPrecondition);
    assert!(err.to_string().contains("OLLAMA_HOST"), "{err}");
}

#[test]
fn providers_come_from_the_environment_and_key_files() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("anthropic-key");
    std::fs::write(&key_file, "sk-ant-from-a-mounted-secret\n").unwrap();
    let key_path = key_file.to_str().unwrap().to_owned();
    let vars = move |var: &str| match var {
        "ANTHROPIC_API_KEY_FILE" => Some(key_path.clone()),
        "GEMINI_API_KEY" => Some("gm-key".to_owned()),
        "GEMINI_MODEL" => Some("gemini-custom".to_owned()),
        "OLLAMA_HOST" => Some("0.0.0.0:11434".to_owned()),
        _ => None,
    };
    let config = LlmConfig::from_vars(&vars).unwrap();
    let names: Vec<&str> = config.providers.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["anthropic", "gemini", "ollama"]);
    assert_eq!(config.chains["default"], ["anthropic", "gemini", "ollama"]);
    assert_eq!(config.providers[1].model, "gemini-custom");
    assert_eq!(
        config.providers[2].base_url.as_deref(),
        Some("http://0.0.0.0:11434")
    );
    let key = config.providers[0].resolve_key(&vars).unwrap().unwrap();
    assert_eq!(key.expose(), "sk-ant-from-a-mounted-secret");
    let providers = Providers::build(&config, &vars).unwrap();
    assert_eq!(
        providers.chain("explain").members(),
        ["anthropic", "gemini", "ollama"]
    );

    // A provider that needs a key and has none says which variables to set.
    let mut missing = ProviderConfig::new("claude", ProviderKind::Anthropic, "m");
    missing.key_env = Some("MY_CLAUDE_KEY".into());
    let err = missing.build(&|_| None).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("MY_CLAUDE_KEY") && message.contains("MY_CLAUDE_KEY_FILE"),
        "{message}"
    );
    assert_eq!(err.code(), ErrorCode::InvalidArgument);
}

#[test]
fn config_reads_from_toml_and_rejects_mistakes() {
    let config: LlmConfig = toml::from_str(
        r#"
        [[providers]]
        name = "claude"
        kind = "anthropic"
        model = "claude-sonnet-4-5"
        rpm = 50
        tpm = 40000
        timeout_ms = 30000

        [[providers]]
        name = "vllm"
        kind = "openai"
        base_url = "http://vllm:8000/v1"
        model = "qwen2.5-coder"

        [[providers]]
        name = "local"
        kind = "ollama"
        model = "llama3.2"

        [chains]
        explain = ["claude", "vllm", "local"]
        complete = ["vllm"]
        "#,
    )
    .unwrap();
    assert_eq!(
        config.providers[0].limits(),
        Limits::per_minute(Some(50), Some(40_000))
    );
    assert_eq!(
        config.providers[1].max_retries, 2,
        "defaults fill what is left out"
    );
    let vars = |var: &str| (var == "ANTHROPIC_API_KEY").then(|| "k".to_owned());
    let providers = Providers::build(&config, &vars).unwrap();
    assert_eq!(
        providers.chain("explain").members(),
        ["claude", "vllm", "local"]
    );
    assert_eq!(providers.chain("complete").members(), ["vllm"]);
    assert_eq!(
        providers.chain("chat").members(),
        ["claude", "vllm", "local"]
    );

    let unknown = toml::from_str::<LlmConfig>(
        "[[providers]]\nname = \"x\"\nkind = \"openai\"\nmodel = \"m\"\nrate = 5\n",
    )
    .unwrap_err();
    assert!(unknown.to_string().contains("rate"), "{unknown}");
    let bad_kind = toml::from_str::<LlmConfig>(
        "[[providers]]\nname = \"x\"\nkind = \"cohere\"\nmodel = \"m\"\n",
    )
    .unwrap_err();
    assert!(bad_kind.to_string().contains("cohere"), "{bad_kind}");

    let mut dangling = config.clone();
    dangling
        .chains
        .insert("explain".into(), vec!["claude".into(), "gpt".into()]);
    let err = Providers::build(&dangling, &vars).unwrap_err();
    assert!(
        err.to_string().contains("chain explain names provider gpt"),
        "{err}"
    );
}

#[tokio::test]
async fn a_connection_lost_after_the_finish_reason_still_completes() {
    // Gemini ends its stream by closing it after the chunk with finishReason: a connection
    // that breaks right then lost nothing. The same holds for OpenAI before `[DONE]`.
    for fx in [gemini(), openai()] {
        let mut pieces = fx.pieces.clone();
        if fx.kind == ProviderKind::Openai {
            pieces.pop(); // no [DONE]
        }
        let (content_type, cut) = (fx.content_type, pieces.len());
        let server = TestServer::start(move |_, _| Reply::Stream {
            content_type,
            pieces: pieces.clone(),
            delay: Duration::ZERO,
            cut_after: Some(cut),
            gate: None,
            hold_open: None,
        })
        .await;
        let provider = build(&provider_config(&fx, &server));
        let got = complete(&provider, request(true), CancellationToken::new())
            .await
            .unwrap();
        assert_eq!(got, hello(), "{}", fx.kind.as_str());
        assert_eq!(server.count(), 1);
    }
}

#[tokio::test]
async fn anthropic_error_events_are_retried_only_before_the_first_token() {
    let overloaded = sse(
        Some("error"),
        r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
    );
    let fx = anthropic();
    let (early, late) = (
        vec![fx.pieces[0].clone(), overloaded.clone()],
        [fx.pieces[..4].to_vec(), vec![overloaded]].concat(),
    );
    let whole = fx.pieces.clone();
    let server = TestServer::start(move |n, _| match n {
        0 => Reply::stream("text/event-stream", early.clone()),
        1 => Reply::stream("text/event-stream", whole.clone()),
        _ => Reply::stream("text/event-stream", late.clone()),
    })
    .await;
    let provider = build(&provider_config(&fx, &server));
    // Overloaded before any token: retried, and the second answer is whole.
    let got = complete(&provider, request(true), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(got, hello());
    assert_eq!(server.count(), 2);
    // Overloaded after a token: the error ends the stream, nothing is re-sent.
    let (events, err) = drain(&provider, request(true)).await;
    assert_eq!(events, vec![Event::Token("Hel".into())]);
    let err = err.unwrap();
    assert!(
        matches!(&err, LlmError::Provider { provider, kind, message } if provider == "anthropic" && kind == "overloaded_error" && message == "Overloaded"),
        "{err:?}"
    );
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn a_retry_after_longer_than_the_cap_fails_at_once() {
    let server = TestServer::start(|_, _| {
        Reply::json(429, r#"{"error":{"message":"quota"}}"#).with_header("retry-after", "120")
    })
    .await;
    let provider = build(&openai_on(&server, "capped"));
    let started = Instant::now();
    let err = complete(&provider, request(true), CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, LlmError::Http { status: 429, retry_after: Some(d), .. } if d == Duration::from_secs(120)),
        "{err:?}"
    );
    assert_eq!(err.code(), ErrorCode::ResourceExhausted);
    assert_eq!(
        server.count(),
        1,
        "not waited for: a chain can fail over instead"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
}

// ---- metrics ----

/// The process's Prometheus recorder (installed once for this test binary).
fn recorder() -> &'static metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .expect("install the metrics recorder")
    })
}

/// The value of the sample whose line starts with `series` (name and labels).
fn sample(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn calls_retries_tokens_and_failovers_are_measured() {
    let handle = recorder();
    let fx = openai();
    let stream = Arc::new(std::sync::Mutex::new(Some(streamed(&fx))));
    let server = TestServer::start(move |n, _| match n {
        0 => Reply::json(500, r#"{"error":{"message":"boom","type":"server_error"}}"#),
        _ => stream.lock().unwrap().take().expect("only two requests"),
    })
    .await;
    let mut config = provider_config(&fx, &server);
    config.name = "metered".to_owned();
    let mut req = request(true);
    req.model = Some("gpt-metered".to_owned());
    let got = complete(&build(&config), req.clone(), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(got, hello());

    // A chain whose first member is down fails over to a working one.
    let down = TestServer::start(|_, _| Reply::json(400, r#"{"error":{"message":"no"}}"#)).await;
    let working = TestServer::start({
        let fx = openai();
        move |_, _| streamed(&fx)
    })
    .await;
    let mut first = openai_on(&down, "metered-down");
    first.max_retries = 0;
    let second = openai_on(&working, "metered-up");
    let chain = aiex_node::llm::ProviderChain::new(
        "explain",
        vec![Arc::new(build(&first)), Arc::new(build(&second))],
    );
    complete(&chain, req, CancellationToken::new())
        .await
        .unwrap();

    let text = handle.render();
    let labels = r#"provider="metered",model="gpt-metered""#;
    assert_eq!(
        sample(
            &text,
            &format!(r#"aiex_llm_requests_total{{{labels},outcome="ok"}}"#)
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, &format!("aiex_llm_retries_total{{{labels}}}")),
        1.0,
        "{text}"
    );
    assert!(
        sample(
            &text,
            &format!(r#"aiex_llm_tokens_total{{{labels},direction="output"}}"#)
        ) > 0.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            &format!("aiex_llm_time_to_first_token_seconds_count{{{labels}}}")
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"aiex_llm_failovers_total{provider="metered-down",model="gpt-metered"}"#
        ),
        1.0,
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"aiex_llm_errors_total{provider="metered-down",model="gpt-metered"}"#
        ),
        1.0,
        "{text}"
    );
}
