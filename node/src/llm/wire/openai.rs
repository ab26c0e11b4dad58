//! OpenAI Chat Completions (`POST {base}/chat/completions`), also spoken by vLLM,
//! llama.cpp, LM Studio and other OpenAI-compatible servers. Streams are SSE `data:` lines
//! ending in `data: [DONE]`; usage comes in the last chunk when `stream_options.include_usage`
//! is set.

use serde_json::{Value, json};

use super::{Call, Decode, Event, Fault, Tally, Wire, error_in, parse, role_name, token_count};
use crate::llm::frame::{Frame, Framing};

pub(crate) struct OpenAi;

impl Wire for OpenAi {
    fn framing(&self) -> Framing {
        Framing::Sse
    }

    fn request(&self, call: &Call<'_>) -> reqwest::RequestBuilder {
        let messages: Vec<Value> = call
            .req
            .messages
            .iter()
            .map(|m| json!({"role": role_name(m.role), "content": m.content}))
            .collect();
        let mut body = json!({
            "model": call.model,
            "messages": messages,
            "stream": call.req.stream,
            "max_tokens": call.max_tokens,
        });
        if let Some(t) = call.req.temperature {
            body["temperature"] = json!(t);
        }
        if call.req.stream {
            body["stream_options"] = json!({"include_usage": true});
        }
        let url = format!("{}/chat/completions", call.base_url);
        let mut builder = call.http.post(url).json(&body);
        if let Some(key) = call.key {
            builder = builder.bearer_auth(key.expose());
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
        let choice = body
            .pointer("/choices/0")
            .ok_or_else(|| Fault::Malformed("no choices in the response".to_owned()))?;
        let mut tally = Tally::default();
        usage(body, &mut tally);
        tally.finish = choice
            .get("finish_reason")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut events = Vec::new();
        match choice.pointer("/message/content") {
            Some(Value::String(text)) if !text.is_empty() => {
                events.push(Event::Token(text.clone()))
            }
            Some(Value::String(_) | Value::Null) => {}
            _ => {
                return Err(Fault::Malformed(
                    "no message content in choices[0]".to_owned(),
                ));
            }
        }
        events.extend(tally.close());
        Ok(events)
    }
}

fn usage(v: &Value, tally: &mut Tally) {
    if let Some(usage) = v.get("usage").filter(|u| u.is_object()) {
        tally.input = usage
            .get("prompt_tokens")
            .and_then(token_count)
            .unwrap_or(0);
        tally.output = usage
            .get("completion_tokens")
            .and_then(token_count)
            .unwrap_or(0);
    }
}

#[derive(Default)]
struct Decoder {
    tally: Tally,
}

impl Decode for Decoder {
    fn frame(&mut self, frame: &Frame) -> Result<Vec<Event>, Fault> {
        if frame.data.trim() == "[DONE]" {
            return Ok(self.tally.close());
        }
        let v = parse(&frame.data)?;
        if let Some(fault) = error_in(&v) {
            return Err(fault);
        }
        usage(&v, &mut self.tally);
        let mut events = Vec::new();
        if let Some(choice) = v.pointer("/choices/0") {
            if let Some(text) = choice.pointer("/delta/content").and_then(Value::as_str)
                && !text.is_empty()
            {
                events.push(Event::Token(text.to_owned()));
            }
            if let Some(reason) = choice.get("finish_reason").and_then(Value::as_str) {
                self.tally.finish = Some(reason.to_owned());
            }
        } else if v.get("choices").is_none() && v.get("usage").is_none() {
            return Err(Fault::Malformed(
                "a stream chunk has neither choices nor usage".to_owned(),
            ));
        }
        Ok(events)
    }

    fn done(&self) -> bool {
        self.tally.done
    }

    fn end(&mut self) -> Result<Vec<Event>, Fault> {
        self.tally.end()
    }
}
