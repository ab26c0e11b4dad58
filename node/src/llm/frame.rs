//! Incremental framing of streamed response bodies: Server-Sent Events (OpenAI, Anthropic,
//! Gemini) and newline-delimited JSON (Ollama).
//!
//! Bytes arrive in arbitrary pieces: a chunk may end in the middle of a line or of a UTF-8
//! character, and one chunk may hold several events. [`Framer::push`] keeps the unfinished
//! tail and returns only the frames that are complete.

/// One unit of a streamed body: an SSE event (its `event:` name and its `data:` lines joined
/// by `\n`) or one NDJSON line (no name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub event: Option<String>,
    pub data: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    Sse,
    Ndjson,
}

/// Splits a byte stream into [`Frame`]s.
#[derive(Debug)]
pub struct Framer {
    framing: Framing,
    buf: Vec<u8>,
    event: Option<String>,
    data: Option<String>,
}

impl Framer {
    pub fn new(framing: Framing) -> Framer {
        Framer {
            framing,
            buf: Vec::new(),
            event: None,
            data: None,
        }
    }

    /// Adds `bytes` and returns the frames they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Frame> {
        self.buf.extend_from_slice(bytes);
        let mut frames = Vec::new();
        let mut start = 0;
        while let Some(pos) = memchr::memchr(b'\n', &self.buf[start..]) {
            let end = start + pos;
            let mut line = &self.buf[start..end];
            if let Some(stripped) = line.strip_suffix(b"\r") {
                line = stripped;
            }
            let line = String::from_utf8_lossy(line).into_owned();
            self.line(&line, &mut frames);
            start = end + 1;
        }
        self.buf.drain(..start);
        frames
    }

    /// Ends the body: returns the last frame if the body did not end with a newline (or,
    /// for SSE, with the blank line that ends an event).
    pub fn finish(&mut self) -> Vec<Frame> {
        let mut frames = Vec::new();
        if !self.buf.is_empty() {
            let rest = std::mem::take(&mut self.buf);
            let line = String::from_utf8_lossy(&rest);
            let line = line.strip_suffix('\r').unwrap_or(&line).to_owned();
            self.line(&line, &mut frames);
        }
        if self.framing == Framing::Sse {
            self.dispatch(&mut frames);
        }
        frames
    }

    fn line(&mut self, line: &str, frames: &mut Vec<Frame>) {
        match self.framing {
            Framing::Ndjson => {
                if !line.trim().is_empty() {
                    frames.push(Frame {
                        event: None,
                        data: line.to_owned(),
                    });
                }
            }
            Framing::Sse => {
                if line.is_empty() {
                    self.dispatch(frames);
                    return;
                }
                if line.starts_with(':') {
                    return; // a comment (keep-alive)
                }
                let (field, value) = match line.split_once(':') {
                    Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                    None => (line, ""),
                };
                match field {
                    "event" => self.event = Some(value.to_owned()),
                    "data" => match &mut self.data {
                        Some(data) => {
                            data.push('\n');
                            data.push_str(value);
                        }
                        None => self.data = Some(value.to_owned()),
                    },
                    _ => {} // id, retry and unknown fields do not matter here
                }
            }
        }
    }

    fn dispatch(&mut self, frames: &mut Vec<Frame>) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            frames.push(Frame { event, data });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(event: Option<&str>, data: &str) -> Frame {
        Frame {
            event: event.map(str::to_owned),
            data: data.to_owned(),
        }
    }

    #[test]
    fn sse_events_split_anywhere() {
        let body = "event: a\ndata: {\"x\":1}\n\n: ping\n\ndata: one\ndata: two\r\n\r\nevent: b\ndata:é\n\n";
        let whole = Framer::new(Framing::Sse).push(body.as_bytes());
        let want = vec![
            sse(Some("a"), "{\"x\":1}"),
            sse(None, "one\ntwo"),
            sse(Some("b"), "é"),
        ];
        assert_eq!(whole, want);
        for split in 1..body.len() {
            let mut framer = Framer::new(Framing::Sse);
            let mut got = framer.push(&body.as_bytes()[..split]);
            got.extend(framer.push(&body.as_bytes()[split..]));
            got.extend(framer.finish());
            assert_eq!(got, want, "split at {split}");
        }
    }

    #[test]
    fn sse_last_event_without_blank_line() {
        let mut framer = Framer::new(Framing::Sse);
        assert!(framer.push(b"data: [DONE]").is_empty());
        assert_eq!(framer.finish(), vec![sse(None, "[DONE]")]);
    }

    #[test]
    fn ndjson_lines_split_anywhere() {
        let body = "{\"a\":1}\n\n{\"b\":\"ü\"}\r\n{\"c\":3}";
        for split in 0..body.len() {
            let mut framer = Framer::new(Framing::Ndjson);
            let mut got = framer.push(&body.as_bytes()[..split]);
            got.extend(framer.push(&body.as_bytes()[split..]));
            got.extend(framer.finish());
            let data: Vec<_> = got.into_iter().map(|f| f.data).collect();
            assert_eq!(
                data,
                ["{\"a\":1}", "{\"b\":\"ü\"}", "{\"c\":3}"],
                "split {split}"
            );
        }
    }
}
