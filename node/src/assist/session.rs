//! Chat sessions as an append-only log on the bus: stream
//! [`SESSIONS_STREAM`](aiex_proto::subjects::SESSIONS_STREAM), one message per turn, keyed
//! `<session>/<turn>` (turn zero-padded, so keys sort in turn order). The log is durable
//! on both buses, so a restarted gateway or node loses no turn.

use aiex_proto::subjects::SESSIONS_STREAM;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::bus::{Bus, BusError, BusResult, Headers, Record, replay};

/// Sessions are spread over this many partitions of the log.
pub const SESSION_PARTITIONS: u32 = 16;

/// One question and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub user: String,
    pub assistant: String,
}

/// The partition holding `session`.
pub fn partition(session: &str) -> u32 {
    let hash = blake3::hash(session.as_bytes());
    let bytes: [u8; 4] = hash.as_bytes()[..4].try_into().expect("4 bytes");
    u32::from_le_bytes(bytes) % SESSION_PARTITIONS
}

fn key(session: &str, turn: usize) -> String {
    format!("{session}/{turn:08}")
}

/// A session id is 1-64 characters of `[A-Za-z0-9_-]`.
pub fn validate_id(session: &str) -> Result<(), String> {
    if session.is_empty() || session.len() > 64 {
        return Err(format!(
            "session id `{session}` must be 1-64 characters long"
        ));
    }
    if let Some(c) = session
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(format!(
            "session id `{session}` contains {c:?}; use letters, digits, `_` and `-`"
        ));
    }
    Ok(())
}

/// Every turn of `session`, oldest first (none for a new session).
pub async fn load(bus: &dyn Bus, session: &str) -> BusResult<Vec<Turn>> {
    let prefix = format!("{session}/");
    let mut turns: Vec<(String, Turn)> = Vec::new();
    for message in replay(bus, SESSIONS_STREAM, partition(session), false).await? {
        if !message.key.starts_with(&prefix) {
            continue;
        }
        let turn: Turn = serde_json::from_slice(&message.payload).map_err(|e| {
            BusError::Storage(format!("session turn {} is not readable: {e}", message.key))
        })?;
        turns.push((message.key, turn));
    }
    turns.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(turns.into_iter().map(|(_, t)| t).collect())
}

/// Appends turn number `index` (0-based) of `session`. `request_id` de-duplicates: the
/// same request appending twice (a redelivered job) stores one turn.
pub async fn append(
    bus: &dyn Bus,
    session: &str,
    index: usize,
    turn: &Turn,
    request_id: &str,
) -> BusResult<()> {
    let payload = serde_json::to_vec(turn).map_err(|e| BusError::Storage(e.to_string()))?;
    let record = Record::put(
        partition(session),
        key(session, index),
        Headers::new(),
        Bytes::from(payload),
    )
    .with_msg_id(format!("turn-{request_id}"));
    bus.publish(SESSIONS_STREAM, vec![record]).await?;
    Ok(())
}
