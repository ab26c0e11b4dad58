//! Google Gemini (`POST {base}/models/{model}:generateContent`, or
//! `:streamGenerateContent?alt=sse` for SSE; key in `x-goog-api-key`). Each streamed event
//! is a whole `GenerateContentResponse`; the stream simply ends after the chunk that
//! carries `finishReason`, with cumulative `usageMetadata`.

use serde_json::{Value, json};

use super::{Call, Decode, Event, Fault, Tally, Wire, error_in, parse, token_count};
use crate::llm::Role;
use crate::llm::frame::{Frame, Framing};

pub(crate) struct Gemini;

impl Wire for Gemini {
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, call: &Call<'_>) -> reqwest::RequestBuilder {
        let system: Vec<Value> = call
            .req
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| json!({"text": m.content}))
            .collect();
        let contents: Vec<Value> = call
            .req
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| {
                let role = if m.role == Role::Assistant {
                    "model"
                } else {
                    "user"
                };
                json!({"role": role, "parts": [{"text": m.content}]})
            })
            .collect();
        let mut config = json!({"maxOutputTokens": call.max_tokens});
        if let Some(t) = call.req.temperature {
            config["temperature"] = json!(t);
        }
        let mut body = json!({"contents": contents, "generationConfig": config});
        if !system.is_empty() {
            body["systemInstruction"] = json!({"parts": system});
        }
        let model = call.model.strip_prefix("models/").unwrap_or(call.model);
        let url = if call.req.stream {
            format!(
                "{}/models/{model}:streamGenerateContent?alt=sse",
                call.base_url
            )
        } else {
            format!("{}/models/{model}:generateContent", call.base_url)
        };
        let mut builder = call.http.post(url).json(&body);
        if let Some(key) = call.key {
            builder = builder.header("x-goog-api-key", key.expose());
        }
        builder
    }

    fn decoder(&self) -> Box<dyn Decode> {
        Box::new(Decoder::default())
    }

    fn decode_whole(&self, body: &Value) -> Result<Vec<Event>, Fault> {
        let mut tally = Tally::default();
        let mut events = chunk(body, &mut tally)?;
        if tally.finish.is_none() {
            return Err(Fault::Malformed(
                "no candidate with a finishReason in the response".to_owned(),
            ));
        }
        events.extend(tally.close());
        Ok(events)
    }
}

/// The text of one response chunk; records usage and finish reason in `tally`.
fn chunk(v: &Value, tally: &mut Tally) -> Result<Vec<Event>, Fault> {
    if let Some(fault) = error_in(v) {
        return Err(fault);
    }
    if let Some(usage) = v.get("usageMetadata") {
        if let Some(n) = usage.get("promptTokenCount").and_then(token_count) {
            tally.input = n;
        }
        if let Some(n) = usage.get("candidatesTokenCount").and_then(token_count) {
            tally.output = n;
        }
    }
    if let Some(reason) = v
        .pointer("/promptFeedback/blockReason")
        .and_then(Value::as_str)
    {
        tally.finish = Some(reason.to_owned());
    }
    let Some(candidate) = v.pointer("/candidates/0") else {
        if v.get("usageMetadata").is_some() || tally.finish.is_some() {
            return Ok(Vec::new());
        }
        return Err(Fault::Malformed("a response without candidates".to_owned()));
    };
    let text: String = candidate
        .pointer("/content/parts")
        .and_then(Value::as_array)
        .map(|parts| {
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    if let Some(reason) = candidate.get("finishReason").and_then(Value::as_str) {
        tally.finish = Some(reason.to_owned());
    }
    Ok(if text.is_empty() {
        Vec::new()
    } else {
        vec![Event::Token(text)]
    })
}

#[derive(Default)]
struct Decoder {
    tally: Tally,
}

impl Decode for Decoder {
    fn frame(&mut self, frame: &Frame) -> Result<Vec<Event>, Fault> {
        let v = parse(&frame.data)?;
        chunk(&v, &mut self.tally)
    }

    fn done(&self) -> bool {
        self.tally.done
    }

    fn end(&mut self) -> Result<Vec<Event>, Fault> {
        self.tally.end()
    }
}
