//! Ollama (`POST {OLLAMA_HOST}/api/chat`). Streams are newline-delimited JSON objects with
//! `message.content`; the last has `done: true`, `done_reason`, `prompt_eval_count` and
//! `eval_count`. No key.

use serde_json::{Value, json};

use super::{Call, Decode, Event, Fault, Tally, Wire, error_in, parse, role_name, token_count};
use crate::llm::frame::{Frame, Framing};

pub(crate) struct Ollama;

impl Wire for Ollama {
    fn framing(&self) -> Framing {
        Framing::Ndjson
    }

    fn request(&self, call: &Call<'_>) -> reqwest::RequestBuilder {
        let messages: Vec<Value> = call
            .req
            .messages
            .iter()
            .map(|m| json!({"role": role_name(m.role), "content": m.content}))
            .collect();
        let mut options = json!({"num_predict": call.max_tokens});
        if let Some(t) = call.req.temperature {
            options["temperature"] = json!(t);
        }
        let body = json!({
            "model": call.model,
            "messages": messages,
            "stream": call.req.stream,
            "options": options,
        });
        let mut builder = call
            .http
            .post(format!("{}/api/chat", call.base_url))
            .json(&body);
        if let Some(key) = call.key {
            builder = builder.bearer_auth(key.expose());
        }
        builder
    }

    fn decoder(&self) -> Box<dyn Decode> {
        Box::new(Decoder::default())
    }

    fn decode_whole(&self, body: &Value) -> Result<Vec<Event>, Fault> {
        let mut tally = Tally::default();
        let events = line(body, &mut tally)?;
        if !tally.done {
            return Err(Fault::Malformed(
                "the response is not marked done".to_owned(),
            ));
        }
        Ok(events)
    }
}

fn line(v: &Value, tally: &mut Tally) -> Result<Vec<Event>, Fault> {
    if let Some(fault) = error_in(v) {
        return Err(fault);
    }
    let content = v.pointer("/message/content").and_then(Value::as_str);
    let done = v.get("done").and_then(Value::as_bool);
    if content.is_none() && done.is_none() {
        return Err(Fault::Malformed(
            "a line with neither message nor done".to_owned(),
        ));
    }
    let mut events = Vec::new();
    if let Some(text) = content
        && !text.is_empty()
    {
        events.push(Event::Token(text.to_owned()));
    }
    if done == Some(true) {
        tally.input = v
            .get("prompt_eval_count")
            .and_then(token_count)
            .unwrap_or(0);
        tally.output = v.get("eval_count").and_then(token_count).unwrap_or(0);
        tally.finish = Some(
            v.get("done_reason")
                .and_then(Value::as_str)
                .unwrap_or("stop")
                .to_owned(),
        );
        events.extend(tally.close());
    }
    Ok(events)
}

#[derive(Default)]
struct Decoder {
    tally: Tally,
}

impl Decode for Decoder {
    fn frame(&mut self, frame: &Frame) -> Result<Vec<Event>, Fault> {
        let v = parse(&frame.data)?;
        line(&v, &mut self.tally)
    }

    fn done(&self) -> bool {
        self.tally.done
    }

    fn end(&mut self) -> Result<Vec<Event>, Fault> {
        if self.tally.done {
            Ok(Vec::new())
        } else {
            Err(Fault::Dropped)
        }
    }
}
