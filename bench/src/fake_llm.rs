//! A fake OpenAI-compatible provider with a fixed latency, for measuring what Aiex adds
//! to an LLM call: a real HTTP/1.1 server (tokio's `TcpListener`, keep-alive, chunked
//! bodies, `TCP_NODELAY`) answering `POST …/chat/completions` in OpenAI's Chat
//! Completions streaming wire format (server-sent events, `data: {chunk}` … `data:
//! [DONE]`).
//!
//! Each answer sends its headers at once, waits [`Script::first_token_after`] counted
//! from the moment the request body was read, then sends the role chunk and the first
//! token in one write, then [`Script::tokens`] − 1 more tokens [`Script::token_gap`]
//! apart, a `finish_reason` chunk, a usage chunk and `[DONE]`. Any other path gets 404.
//! The same server answers the benchmark's own direct requests (the baseline) and the
//! requests of the `aiex up` under test, so both see the same latency.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// How the fake answers every request.
#[derive(Debug, Clone)]
pub struct Script {
    /// From the request read to the first token (the provider's "thinking" time).
    pub first_token_after: Duration,
    /// Content tokens per answer (at least 1).
    pub tokens: usize,
    /// Between two tokens.
    pub token_gap: Duration,
}

impl Script {
    /// The text of token `i`.
    pub fn token(i: usize) -> String {
        format!(" tok{i}")
    }

    /// The whole answer's text.
    pub fn answer(&self) -> String {
        (0..self.tokens.max(1)).map(Script::token).collect()
    }
}

/// A header the benchmark's own direct requests carry, so the fake can tell them from
/// the requests of the `aiex up` under test (it answers both the same way).
pub const BASELINE_HEADER: &str = "x-aiex-bench-baseline";

/// What the fake has seen.
#[derive(Debug, Default)]
struct Seen {
    requests: usize,
    /// Body of the latest request not marked [`BASELINE_HEADER`].
    last_body: Vec<u8>,
    /// Body length of every request not marked [`BASELINE_HEADER`], in arrival order.
    body_bytes: Vec<usize>,
}

/// A running fake provider; stops when dropped.
pub struct FakeLlm {
    /// `http://127.0.0.1:PORT/v1`, what `OPENAI_BASE_URL` takes.
    pub base_url: String,
    seen: Arc<Mutex<Seen>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeLlm {
    /// Serves on 127.0.0.1 at a free port, on the current Tokio runtime.
    pub async fn start(script: Script) -> std::io::Result<FakeLlm> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}/v1", listener.local_addr()?);
        let seen = Arc::new(Mutex::new(Seen::default()));
        let script = Arc::new(script);
        let task = {
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Ok((socket, _)) = listener.accept().await {
                    let _ = socket.set_nodelay(true);
                    let (seen, script) = (seen.clone(), script.clone());
                    tokio::spawn(async move {
                        let _ = serve(socket, &script, &seen).await;
                    });
                }
            })
        };
        Ok(FakeLlm {
            base_url,
            seen,
            task,
        })
    }

    /// Requests answered or being answered.
    pub fn requests(&self) -> usize {
        lock(&self.seen).requests
    }

    /// The body of the latest request from Aiex (the JSON it sent, prompt included).
    pub fn last_body(&self) -> Vec<u8> {
        lock(&self.seen).last_body.clone()
    }

    /// Requests from Aiex so far.
    pub fn aiex_requests(&self) -> usize {
        lock(&self.seen).body_bytes.len()
    }

    /// Body sizes of Aiex's requests from its request number `from` on.
    pub fn body_bytes_since(&self, from: usize) -> Vec<usize> {
        lock(&self.seen).body_bytes[from..].to_vec()
    }
}

fn lock(seen: &Mutex<Seen>) -> std::sync::MutexGuard<'_, Seen> {
    seen.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Answers the requests of one connection until the client closes it.
async fn serve(mut socket: TcpStream, script: &Script, seen: &Mutex<Seen>) -> std::io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Some(request) = read_request(&mut socket, &mut buf).await? else {
            return Ok(());
        };
        {
            let mut s = lock(seen);
            s.requests += 1;
            if !request.baseline {
                s.body_bytes.push(request.body.len());
                s.last_body = request.body;
            }
        }
        if request.method != "POST" || !request.path.ends_with("/chat/completions") {
            let body = "not found";
            let head = format!(
                "HTTP/1.1 404 Not Found\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(head.as_bytes()).await?;
            continue;
        }
        let started = tokio::time::Instant::now();
        socket
            .write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\
                  transfer-encoding: chunked\r\ncache-control: no-cache\r\n\r\n",
            )
            .await?;
        tokio::time::sleep_until(started + script.first_token_after).await;
        let role = sse(
            r#"{"id":"fake","object":"chat.completion.chunk","model":"fake","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
        );
        let tokens = script.tokens.max(1);
        for i in 0..tokens {
            let token = sse(&format!(
                r#"{{"id":"fake","object":"chat.completion.chunk","model":"fake","choices":[{{"index":0,"delta":{{"content":"{}"}},"finish_reason":null}}]}}"#,
                Script::token(i)
            ));
            if i == 0 {
                socket.write_all(&chunk(&(role.clone() + &token))).await?;
            } else {
                tokio::time::sleep(script.token_gap).await;
                socket.write_all(&chunk(&token)).await?;
            }
        }
        let usage = format!(
            r#"{{"id":"fake","object":"chat.completion.chunk","model":"fake","choices":[],"usage":{{"prompt_tokens":{},"completion_tokens":{tokens},"total_tokens":{}}}}}"#,
            request.content_length / 4,
            request.content_length / 4 + tokens
        );
        let end = sse(
            r#"{"id":"fake","object":"chat.completion.chunk","model":"fake","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
        ) + &sse(&usage)
            + &sse("[DONE]");
        let mut tail = chunk(&end);
        tail.extend_from_slice(b"0\r\n\r\n");
        socket.write_all(&tail).await?;
        if request.close {
            return Ok(());
        }
    }
}

fn sse(data: &str) -> String {
    format!("data: {data}\n\n")
}

/// One HTTP/1.1 chunk.
fn chunk(piece: &str) -> Vec<u8> {
    format!("{:x}\r\n{piece}\r\n", piece.len()).into_bytes()
}

struct Request {
    method: String,
    path: String,
    content_length: usize,
    body: Vec<u8>,
    /// The client asked to close the connection after this answer.
    close: bool,
    /// Sent by the benchmark itself ([`BASELINE_HEADER`]).
    baseline: bool,
}

/// Reads one request (head and `content-length` body); `buf` keeps what arrived after
/// it. `None` when the client closed the connection between requests.
async fn read_request(
    socket: &mut TcpStream,
    buf: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let mut chunk = [0u8; 16 * 1024];
    let head_end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let (mut content_length, mut close, mut baseline) = (0usize, false, false);
    for (name, value) in lines.filter_map(|l| l.split_once(':')) {
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "content-length" {
            content_length = value.parse().unwrap_or(0);
        } else if name == "connection" && value.eq_ignore_ascii_case("close") {
            close = true;
        } else if name == BASELINE_HEADER {
            baseline = true;
        }
    }
    let body_start = head_end + 4;
    while buf.len() < body_start + content_length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = buf[body_start..body_start + content_length].to_vec();
    buf.drain(..body_start + content_length);
    Ok(Some(Request {
        method,
        path,
        content_length,
        body,
        close,
        baseline,
    }))
}
