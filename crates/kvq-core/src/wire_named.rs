//! The bytes of named queues' two ops (engine/named.rs), in docs/wire.md's
//! style: little-endian u32 lengths and counts, f64 numbers, a status
//! byte first in every reply.
//!
//! `write_named` request: u8 has-atomic, then (if 1) u32 length and an
//! atomic write as `atomic_write` takes it; u32 n, then per message:
//! queue, id, payload (u32 length + bytes each), f64 due ms, u8 has-group
//! [group], u8 has-dedup [dedup id, f64 window end ms], u32 max attempts,
//! f64 enqueued-at ms, u8 unique (a duplicate fails the write). Reply: u8 committed (0: a check failed), then
//! the 10-byte versionstamp, u32 n and per message u8 0 (added) or 1 (a
//! duplicate, then the first message's id and its 10-byte versionstamp).
//!
//! `dequeue_named` reply: u32 n, then per message f64 token, payload,
//! id, u32 attempts made, f64 enqueued-at ms, u8 has-group [group, f64
//! sequence number].

use std::sync::Arc;

use crate::engine::Enqueued;
use crate::engine::NamedCommitted;
use crate::engine::NamedEnqueue;
use crate::engine::NamedWrite;
use crate::engine::QueueMessage;
use crate::error::Error;
use crate::error::Result;
use crate::wire::Reader;
use crate::wire::Writer;

fn text(r: &mut Reader) -> Result<String> {
  String::from_utf8(r.bytes()?.to_vec())
    .map_err(|_| Error::Malformed("a string is not UTF-8".into()))
}

/// Decodes a `write_named` request.
pub fn decode_write(buf: &[u8]) -> Result<NamedWrite> {
  let mut r = Reader::new(buf);
  let atomic = match r.u8()? {
    0 => None,
    _ => Some(crate::wire::decode_atomic(r.bytes()?)?),
  };
  let n = r.count()?;
  // A message takes at least 40 bytes: a corrupt count must not reserve
  // more than the request could hold.
  let mut enqueues = Vec::with_capacity(n.min(1 + buf.len() / 40));
  for _ in 0..n {
    let queue: Arc<str> = Arc::from(text(&mut r)?);
    let id = text(&mut r)?;
    let payload = r.bytes()?.to_vec();
    let due = r.f64()? as i64;
    let group = match r.u8()? {
      0 => None,
      _ => Some(text(&mut r)?),
    };
    let dedup = match r.u8()? {
      0 => None,
      _ => Some((text(&mut r)?, r.f64()? as i64)),
    };
    let max_attempts = r.u32()?;
    let enqueued_at = r.f64()? as i64;
    let unique = r.u8()? != 0;
    enqueues.push(NamedEnqueue {
      queue,
      id,
      payload,
      due,
      group,
      dedup,
      max_attempts,
      enqueued_at,
      unique,
    });
  }
  r.end()?;
  Ok(NamedWrite { atomic, enqueues })
}

/// Encodes a `write_named` outcome.
pub fn encode_write(outcome: Option<NamedCommitted>) -> Vec<u8> {
  let mut w = Writer::ok();
  let Some(committed) = outcome else {
    w.u8(0);
    return w.finish();
  };
  w.u8(1).raw(&committed.versionstamp);
  w.u32(committed.enqueued.len() as u32);
  for e in &committed.enqueued {
    match e {
      Enqueued::Added => w.u8(0),
      Enqueued::Duplicate(first, vs) => w.u8(1).bytes(first.as_bytes()).raw(vs),
    };
  }
  w.finish()
}

/// Encodes a batch of leased named messages (empty: closed or cancelled).
pub fn encode_messages(messages: &[QueueMessage]) -> Vec<u8> {
  let size: usize = messages.iter().map(|m| m.payload.len() + 96).sum();
  let mut w = Writer::ok_with_capacity(5 + size);
  w.u32(messages.len() as u32);
  for m in messages {
    w.f64(m.token as f64).bytes(&m.payload);
    let meta = m.named.clone().unwrap_or_default();
    w.bytes(meta.id.as_bytes())
      .u32(meta.attempts)
      .f64(meta.enqueued_at as f64);
    match &meta.group {
      Some((group, seq)) => w.u8(1).bytes(group.as_bytes()).f64(*seq as f64),
      None => w.u8(0),
    };
  }
  w.finish()
}
