//! Anthropic Messages (`POST {base}/v1/messages`, `x-api-key`, `anthropic-version:
//! 2023-06-01`). Streams are SSE with named events: `message_start` (input usage),
//! `content_block_delta` (text), `message_delta` (stop reason, output usage),
//! `message_stop`, `ping`, and `error`.

use serde_json::{Value, json};

use super::{
    Call, Decode, Event, Fault, Tally, Wire, error_in, parse, role_name, str_at, token_count,
};
use crate::llm::Role;
use crate::llm::frame::{Frame, Framing};

pub(crate) const ANTHROPIC_VERSION: &str = "2023-06-01";

pub(crate) struct Anthropic;

impl Wire for Anthropic {
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, call: &Call<'_>) -> reqwest::RequestBuilder {
        let system: Vec<&str> = call
            .req
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let messages: Vec<Value> = call
            .req
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| json!({"role": role_name(m.role), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": call.model,
            "max_tokens": call.max_tokens,
            "messages": messages,
            "stream": call.req.stream,
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if let Some(t) = call.req.temperature {
            body["temperature"] = json!(t);
        }
        let mut builder = call
            .http
            .post(format!("{}/v1/messages", call.base_url))
            .header("anthropic-version", ANTHROPIC_VERSION)
            .json(&body);
        if let Some(key) = call.key {
            builder = builder.header("x-api-key", key.expose());
        }
        builder
    }

    fn decoder(&self) -> Box<dyn Decode> {
        Box::new(Decoder::default())
    }

    fn decode_whole(&self, body: &Value) -> Result<Vec<Event>, Fault> {
        if let Some(fault) = error_in(body) {
            return Err(fault);
        }
        let content = body
            .get("content")
            .and_then(Value::as_array)
            .ok_or_else(|| Fault::Malformed("no content array in the response".to_owned()))?;
        let text: String = content
            .iter()
            .filter(|block| block.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|block| block.get("text").and_then(Value::as_str))
            .collect();
        let mut tally = Tally::default();
        usage(body.get("usage"), &mut tally);
        tally.finish = str_at(body, "/stop_reason").map(str::to_owned);
        let mut events = Vec::new();
        if !text.is_empty() {
            events.push(Event::Token(text));
        }
        events.extend(tally.close());
        Ok(events)
    }
}

fn usage(usage: Option<&Value>, tally: &mut Tally) {
    let Some(usage) = usage else { return };
    if let Some(n) = usage.get("input_tokens").and_then(token_count) {
        tally.input = n;
    }
    if let Some(n) = usage.get("output_tokens").and_then(token_count) {
        tally.output = n;
    }
}

#[derive(Default)]
struct Decoder {
    tally: Tally,
}

impl Decode for Decoder {
    fn frame(&mut self, frame: &Frame) -> Result<Vec<Event>, Fault> {
        let v = parse(&frame.data)?;
        let kind = frame
            .event
            .as_deref()
            .or_else(|| v.get("type").and_then(Value::as_str))
            .unwrap_or("");
        match kind {
            "message_start" => usage(v.pointer("/message/usage"), &mut self.tally),
            "content_block_delta" => {
                if str_at(&v, "/delta/type") == Some("text_delta")
                    && let Some(text) = str_at(&v, "/delta/text")
                    && !text.is_empty()
                {
                    return Ok(vec![Event::Token(text.to_owned())]);
                }
            }
            "message_delta" => {
                usage(v.get("usage"), &mut self.tally);
                if let Some(reason) = str_at(&v, "/delta/stop_reason") {
                    self.tally.finish = Some(reason.to_owned());
                }
            }
            "message_stop" => return Ok(self.tally.close()),
            "error" => {
                return Err(error_in(&v).unwrap_or(Fault::Malformed(
                    "an error event without an error object".to_owned(),
                )));
            }
            // ping, content_block_start, content_block_stop, and events added later
            _ => {}
        }
        Ok(Vec::new())
    }

    fn done(&self) -> bool {
        self.tally.done
    }

    fn end(&mut self) -> Result<Vec<Event>, Fault> {
        // Without message_stop the message may be incomplete even if a stop reason came.
        if self.tally.done {
            Ok(Vec::new())
        } else {
            Err(Fault::Dropped)
        }
    }
}
