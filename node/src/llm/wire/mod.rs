//! Each provider's wire format: how a [`ChatRequest`] becomes an HTTP request, and how the
//! response (one JSON body, or a stream of frames) becomes [`Event`]s.

mod anthropic;
mod gemini;
mod ollama;
mod openai;

use serde_json::Value;

use super::frame::{Frame, Framing};
use super::{ChatRequest, Event, FinishReason, ProviderKind, Secret};

/// What went wrong decoding a response, before the provider name is attached.
#[derive(Debug)]
pub(crate) enum Fault {
    Malformed(String),
    Provider { kind: String, message: String },
    Dropped,
}

/// A provider's request builder and response decoders.
pub(crate) trait Wire: Send + Sync + 'static {
    fn framing(&self) -> Framing;

    fn request(&self, call: &Call<'_>) -> reqwest::RequestBuilder;

    fn decoder(&self) -> Box<dyn Decode>;

    /// Decodes a non-streamed response body.
    fn decode_whole(&self, body: &Value) -> Result<Vec<Event>, Fault>;
}

/// Decodes a streamed response, frame by frame.
pub(crate) trait Decode: Send {
    fn frame(&mut self, frame: &Frame) -> Result<Vec<Event>, Fault>;

    /// Whether the provider said it has finished (nothing more to read).
    fn done(&self) -> bool;

    /// The body ended: the closing events, or `Fault::Dropped` if the provider had not
    /// finished.
    fn end(&mut self) -> Result<Vec<Event>, Fault>;
}

/// Everything a wire needs to build one HTTP request.
pub(crate) struct Call<'a> {
    pub http: &'a reqwest::Client,
    pub base_url: &'a str,
    pub model: &'a str,
    pub key: Option<&'a Secret>,
    pub max_tokens: u32,
    pub req: &'a ChatRequest,
}

pub(crate) fn wire_for(kind: ProviderKind) -> Box<dyn Wire> {
    match kind {
        ProviderKind::Openai => Box::new(openai::OpenAi),
        ProviderKind::Anthropic => Box::new(anthropic::Anthropic),
        ProviderKind::Gemini => Box::new(gemini::Gemini),
        ProviderKind::Ollama => Box::new(ollama::Ollama),
    }
}

/// Usage and finish reason gathered while decoding, emitted once at the end.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    input: u32,
    output: u32,
    finish: Option<String>,
    done: bool,
}

impl Tally {
    /// The closing `Usage` and `Done` events (once).
    fn close(&mut self) -> Vec<Event> {
        if self.done {
            return Vec::new();
        }
        self.done = true;
        let reason = self.finish.as_deref().unwrap_or("stop");
        vec![
            Event::Usage {
                input: self.input,
                output: self.output,
            },
            Event::Done {
                finish_reason: FinishReason::from_provider(reason),
            },
        ]
    }

    /// At the end of the body: close if the provider gave a finish reason, else the
    /// stream was cut.
    fn end(&mut self) -> Result<Vec<Event>, Fault> {
        if self.done {
            Ok(Vec::new())
        } else if self.finish.is_some() {
            Ok(self.close())
        } else {
            Err(Fault::Dropped)
        }
    }
}

fn parse(data: &str) -> Result<Value, Fault> {
    serde_json::from_str(data).map_err(|e| {
        // Truncated (after the key is scrubbed) where the fault becomes an LlmError.
        Fault::Malformed(format!("invalid JSON ({e}): {data}"))
    })
}

fn token_count(v: &Value) -> Option<u32> {
    v.as_u64().map(|n| u32::try_from(n).unwrap_or(u32::MAX))
}

fn str_at<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

/// `{"error": {"type"|"status"|"code": ..., "message": ...}}` or `{"error": "..."}`.
fn error_in(v: &Value) -> Option<Fault> {
    let error = v.get("error")?;
    if error.is_null() {
        return None;
    }
    if let Some(message) = error.as_str() {
        return Some(Fault::Provider {
            kind: "error".to_owned(),
            message: message.to_owned(),
        });
    }
    let kind = ["type", "status", "code"]
        .iter()
        .find_map(|k| error.get(*k).filter(|v| !v.is_null()))
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .unwrap_or_else(|| "error".to_owned());
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned();
    Some(Fault::Provider { kind, message })
}

fn role_name(role: super::Role) -> &'static str {
    match role {
        super::Role::System => "system",
        super::Role::User => "user",
        super::Role::Assistant => "assistant",
    }
}
