//! The byte format both bindings speak with the TypeScript layer.
//!
//! Requests and replies are flat little-endian records, described in
//! docs/wire.md. TypeScript encodes keys and values itself (key codec, V8
//! serialiser), so the engine only ever sees bytes. Every reply starts with
//! a status byte: 0 and the payload, or 1 and an error (class, code,
//! message), so a failure looks the same through N-API and FFI.

use std::num::NonZeroU32;

use chrono::DateTime;
use chrono::Utc;
use denokv_proto::AtomicWrite;
use denokv_proto::Check;
use denokv_proto::Enqueue;
use denokv_proto::KvEntry;
use denokv_proto::KvValue;
use denokv_proto::Mutation;
use denokv_proto::MutationKind;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use denokv_proto::Versionstamp;

use crate::engine::Outcome;
use crate::engine::QueueMessage;
use crate::engine::Verdict;
use crate::error::Error;
use crate::error::Result;

/// Mutation kinds on the wire (the KV Connect protobuf numbers).
mod kind {
  pub const SET: u8 = 1;
  pub const DELETE: u8 = 2;
  pub const SUM: u8 = 3;
  pub const MAX: u8 = 4;
  pub const MIN: u8 = 5;
  pub const SET_SUFFIX_VERSIONSTAMPED_KEY: u8 = 9;
}

/// A cursor over a request buffer.
pub struct Reader<'a> {
  buf: &'a [u8],
}

impl<'a> Reader<'a> {
  /// Reads from the start of `buf`.
  pub fn new(buf: &'a [u8]) -> Self {
    Reader { buf }
  }

  fn take(&mut self, n: usize) -> Result<&'a [u8]> {
    if self.buf.len() < n {
      return Err(Error::Malformed("request ends early".into()));
    }
    let (head, tail) = self.buf.split_at(n);
    self.buf = tail;
    Ok(head)
  }

  /// One byte.
  pub fn u8(&mut self) -> Result<u8> {
    Ok(self.take(1)?[0])
  }

  /// A little-endian u32.
  pub fn u32(&mut self) -> Result<u32> {
    let b = self.take(4)?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
  }

  /// A little-endian f64 (how JavaScript numbers travel).
  pub fn f64(&mut self) -> Result<f64> {
    let b = self.take(8)?;
    let mut raw = [0u8; 8];
    raw.copy_from_slice(b);
    Ok(f64::from_le_bytes(raw))
  }

  /// A u32 length, then that many bytes.
  pub fn bytes(&mut self) -> Result<&'a [u8]> {
    let n = self.u32()? as usize;
    self.take(n)
  }

  /// A 10-byte versionstamp.
  pub fn versionstamp(&mut self) -> Result<Versionstamp> {
    let mut vs = [0u8; 10];
    vs.copy_from_slice(self.take(10)?);
    Ok(vs)
  }

  /// A count, refusing counts the rest of the buffer cannot hold (so a
  /// corrupt length cannot make us allocate gigabytes).
  pub fn count(&mut self) -> Result<usize> {
    let n = self.u32()? as usize;
    if n > self.buf.len() {
      return Err(Error::Malformed("count larger than the request".into()));
    }
    Ok(n)
  }

  /// Fails unless the whole request was read.
  pub fn end(&self) -> Result<()> {
    if self.buf.is_empty() {
      Ok(())
    } else {
      Err(Error::Malformed("trailing bytes in request".into()))
    }
  }
}

/// A growing reply buffer.
#[derive(Default)]
pub struct Writer {
  buf: Vec<u8>,
}

impl Writer {
  /// A reply that starts with the OK status byte.
  pub fn ok() -> Self {
    Writer { buf: vec![0] }
  }
  /// [`Writer::ok`] with room for `n` bytes.
  pub fn ok_with_capacity(n: usize) -> Self {
    let mut buf = Vec::with_capacity(n);
    buf.push(0);
    Writer { buf }
  }
  /// One byte.
  pub fn u8(&mut self, v: u8) -> &mut Self {
    self.buf.push(v);
    self
  }
  /// A little-endian u32.
  pub fn u32(&mut self, v: u32) -> &mut Self {
    self.buf.extend_from_slice(&v.to_le_bytes());
    self
  }
  /// A little-endian f64.
  pub fn f64(&mut self, v: f64) -> &mut Self {
    self.buf.extend_from_slice(&v.to_le_bytes());
    self
  }
  /// A u32 length, then the bytes.
  pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
    self.u32(v.len() as u32);
    self.buf.extend_from_slice(v);
    self
  }
  /// Raw bytes with no length.
  pub fn raw(&mut self, v: &[u8]) -> &mut Self {
    self.buf.extend_from_slice(v);
    self
  }
  /// The finished buffer.
  pub fn finish(self) -> Vec<u8> {
    self.buf
  }
}

/// An error reply: status 1, the JS class, the `KVQ_*` code, the message.
pub fn error_reply(e: &Error) -> Vec<u8> {
  let mut w = Writer::default();
  w.u8(1)
    .u8(e.js_class() as u8)
    .bytes(e.code().as_bytes())
    .bytes(e.to_string().as_bytes());
  w.finish()
}

/// An OK reply with no payload.
pub fn empty_reply() -> Vec<u8> {
  vec![0]
}

fn value(r: &mut Reader) -> Result<KvValue> {
  let encoding = r.u8()?;
  let bytes = r.bytes()?;
  match encoding {
    1 => Ok(KvValue::V8(bytes.to_vec())),
    3 => Ok(KvValue::Bytes(bytes.to_vec())),
    2 => {
      let raw: [u8; 8] = bytes.try_into().map_err(|_| {
        Error::Malformed("a KvU64 value must be 8 bytes".into())
      })?;
      Ok(KvValue::U64(u64::from_le_bytes(raw)))
    }
    other => Err(Error::UnknownValueEncoding(other as i64)),
  }
}

fn write_value(w: &mut Writer, v: &KvValue) {
  match v {
    KvValue::V8(b) => w.u8(1).bytes(b),
    KvValue::Bytes(b) => w.u8(3).bytes(b),
    KvValue::U64(n) => w.u8(2).bytes(&n.to_le_bytes()),
  };
}

fn now_plus(ms: f64) -> Option<DateTime<Utc>> {
  let now = Utc::now().timestamp_millis();
  let at = now.checked_add(ms as i64)?;
  DateTime::from_timestamp_millis(at)
}

/// Decodes a snapshot read request.
pub fn decode_read(buf: &[u8]) -> Result<Vec<ReadRange>> {
  let mut r = Reader::new(buf);
  let n = r.count()?;
  let mut ranges = Vec::with_capacity(n);
  for _ in 0..n {
    let start = r.bytes()?.to_vec();
    let end = r.bytes()?.to_vec();
    let limit = NonZeroU32::new(r.u32()?).ok_or_else(|| {
      Error::Malformed("a read limit must be positive".into())
    })?;
    let reverse = r.u8()? != 0;
    ranges.push(ReadRange {
      start,
      end,
      limit,
      reverse,
    });
  }
  r.end()?;
  Ok(ranges)
}

/// Encodes a snapshot read's result.
pub fn encode_read(out: &[ReadRangeOutput]) -> Vec<u8> {
  let mut w = Writer::ok();
  w.u32(out.len() as u32);
  for range in out {
    w.u32(range.entries.len() as u32);
    for entry in &range.entries {
      w.bytes(&entry.key);
      write_value(&mut w, &entry.value);
      w.raw(&entry.versionstamp);
    }
  }
  w.finish()
}

/// Decodes an atomic write request. Expiries and delays arrive relative
/// (ms from now) and are made absolute here, with Deno's error for an
/// expiry past what a date can hold.
pub fn decode_atomic(buf: &[u8]) -> Result<AtomicWrite> {
  let mut r = Reader::new(buf);
  let n = r.count()?;
  let mut checks = Vec::with_capacity(n);
  for _ in 0..n {
    let key = r.bytes()?.to_vec();
    let versionstamp = match r.u8()? {
      0 => None,
      _ => Some(r.versionstamp()?),
    };
    checks.push(Check { key, versionstamp });
  }
  let n = r.count()?;
  let mut mutations = Vec::with_capacity(n);
  for _ in 0..n {
    let k = r.u8()?;
    let key = r.bytes()?.to_vec();
    let mut expire_at = None;
    let kind = match k {
      kind::SET | kind::SET_SUFFIX_VERSIONSTAMPED_KEY => {
        let v = value(&mut r)?;
        let expire_in = r.f64()?;
        if expire_in >= 0.0 {
          expire_at = Some(
            now_plus(expire_in)
              .ok_or(Error::ExpireInTooLarge(expire_in as i64))?,
          );
        }
        if k == kind::SET {
          MutationKind::Set(v)
        } else {
          MutationKind::SetSuffixVersionstampedKey(v)
        }
      }
      kind::DELETE => MutationKind::Delete,
      kind::SUM => MutationKind::Sum {
        value: value(&mut r)?,
        min_v8: Vec::new(),
        max_v8: Vec::new(),
        clamp: false,
      },
      kind::MAX => MutationKind::Max(value(&mut r)?),
      kind::MIN => MutationKind::Min(value(&mut r)?),
      other => {
        return Err(Error::Malformed(format!("unknown mutation kind {other}")))
      }
    };
    mutations.push(Mutation {
      key,
      kind,
      expire_at,
    });
  }
  let n = r.count()?;
  let mut enqueues = Vec::with_capacity(n);
  for _ in 0..n {
    let payload = r.bytes()?.to_vec();
    let delay = r.f64()?;
    let deadline = now_plus(delay.max(0.0))
      .ok_or_else(|| Error::Malformed("delay out of range".into()))?;
    let nkeys = r.count()?;
    let mut keys_if_undelivered = Vec::with_capacity(nkeys);
    for _ in 0..nkeys {
      keys_if_undelivered.push(r.bytes()?.to_vec());
    }
    let backoff_schedule = match r.u8()? {
      0 => None,
      _ => {
        let n = r.count()?;
        Some((0..n).map(|_| r.u32()).collect::<Result<Vec<_>>>()?)
      }
    };
    enqueues.push(Enqueue {
      payload,
      deadline,
      keys_if_undelivered,
      backoff_schedule,
    });
  }
  r.end()?;
  Ok(AtomicWrite {
    checks,
    mutations,
    enqueues,
  })
}

/// Splits a request of several atomic writes: u32 n, then n times a u32
/// length and one atomic write request. Each decodes on its own, so one
/// malformed write fails alone.
pub fn decode_atomic_many(buf: &[u8]) -> Result<Vec<Result<AtomicWrite>>> {
  let mut r = Reader::new(buf);
  let n = r.count()?;
  let mut out = Vec::with_capacity(n);
  for _ in 0..n {
    out.push(decode_atomic(r.bytes()?));
  }
  r.end()?;
  Ok(out)
}

/// Joins the replies of several atomic writes: status 0, u32 n, then n
/// times a u32 length and one reply (each with its own status).
pub fn encode_many(replies: &[Vec<u8>]) -> Vec<u8> {
  let size: usize = replies.iter().map(|r| r.len() + 4).sum();
  let mut w = Writer {
    buf: Vec::with_capacity(5 + size),
  };
  w.u8(0).u32(replies.len() as u32);
  for reply in replies {
    w.bytes(reply);
  }
  w.finish()
}

/// Encodes an atomic write's outcome: committed with its versionstamp, or
/// a failed check.
pub fn encode_atomic(outcome: Option<Versionstamp>) -> Vec<u8> {
  let mut w = Writer::ok();
  match outcome {
    Some(vs) => w.u8(1).raw(&vs),
    None => w.u8(0),
  };
  w.finish()
}

/// Encodes a batch of leased messages (empty: the store closed).
pub fn encode_messages(messages: &[QueueMessage]) -> Vec<u8> {
  let size: usize = messages.iter().map(|m| m.payload.len() + 12).sum();
  let mut w = Writer {
    buf: Vec::with_capacity(5 + size),
  };
  w.u8(0).u32(messages.len() as u32);
  for m in messages {
    w.f64(m.token as f64).bytes(&m.payload);
  }
  w.finish()
}

fn error_text(r: &mut Reader) -> Result<String> {
  Ok(String::from_utf8_lossy(r.bytes()?).into_owned())
}

/// Decodes a batch of handler outcomes: (token, outcome), the outcome a
/// byte: 0 failed, 1 handled, 2 released; for a named message 3 retry
/// (f64 due ms, the error's text) or 4 dead (the error's text).
pub fn decode_finish(buf: &[u8]) -> Result<Vec<(u64, Outcome)>> {
  let mut r = Reader::new(buf);
  let n = r.count()?;
  let mut out = Vec::with_capacity(n);
  for _ in 0..n {
    let token = r.f64()? as u64;
    let outcome = match r.u8()? {
      0 => Outcome::Failed,
      1 => Outcome::Handled,
      2 => Outcome::Released,
      3 => {
        let at = r.f64()? as i64;
        let error = error_text(&mut r)?;
        Outcome::Settled(Verdict::Retry { at, error })
      }
      4 => Outcome::Settled(Verdict::Dead {
        error: error_text(&mut r)?,
      }),
      other => {
        return Err(Error::Malformed(format!("unknown outcome {other}")))
      }
    };
    out.push((token, outcome));
  }
  r.end()?;
  Ok(out)
}

/// Decodes a watch request: raw flag and keys.
pub fn decode_watch(buf: &[u8]) -> Result<(bool, Vec<Vec<u8>>)> {
  let mut r = Reader::new(buf);
  let raw = r.u8()? != 0;
  let n = r.count()?;
  let keys = (0..n)
    .map(|_| r.bytes().map(<[u8]>::to_vec))
    .collect::<Result<Vec<_>>>()?;
  r.end()?;
  Ok((raw, keys))
}

/// Encodes one watch step: `None` when the stream ended.
pub fn encode_watch(state: Option<&[Option<KvEntry>]>) -> Vec<u8> {
  let mut w = Writer::ok();
  let Some(entries) = state else {
    w.u8(0);
    return w.finish();
  };
  w.u8(1).u32(entries.len() as u32);
  for entry in entries {
    match entry {
      None => {
        w.u8(0);
      }
      Some(e) => {
        w.u8(1);
        write_value(&mut w, &e.value);
        w.raw(&e.versionstamp);
      }
    }
  }
  w.finish()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn atomic_round_trip_of_every_kind() {
    let mut w = Writer::default();
    w.u32(1)
      .bytes(b"\x02a\x00")
      .u8(1)
      .raw(&[0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    w.u32(3);
    w.u8(kind::SET)
      .bytes(b"\x02b\x00")
      .u8(3)
      .bytes(b"xy")
      .f64(1000.0);
    w.u8(kind::DELETE).bytes(b"\x02c\x00");
    w.u8(kind::SUM)
      .bytes(b"\x02d\x00")
      .u8(2)
      .bytes(&7u64.to_le_bytes());
    w.u32(1)
      .bytes(b"\xff\x0f\x5f")
      .f64(0.0)
      .u32(1)
      .bytes(b"\x02e\x00");
    w.u8(1).u32(2).u32(10).u32(20);
    let write = decode_atomic(&w.finish()).unwrap();
    assert_eq!(write.checks.len(), 1);
    assert!(write.mutations[0].expire_at.is_some());
    assert!(matches!(write.mutations[1].kind, MutationKind::Delete));
    assert!(matches!(
      write.mutations[2].kind,
      MutationKind::Sum {
        value: KvValue::U64(7),
        ..
      }
    ));
    assert_eq!(write.enqueues[0].backoff_schedule, Some(vec![10, 20]));
  }

  #[test]
  fn truncated_and_oversized_counts_are_malformed() {
    assert!(matches!(decode_read(&[1, 0]), Err(Error::Malformed(_))));
    assert!(matches!(
      decode_read(&[255, 255, 255, 255]),
      Err(Error::Malformed(_))
    ));
  }

  #[test]
  fn le64_must_be_eight_bytes() {
    let mut w = Writer::default();
    w.u32(0)
      .u32(1)
      .u8(kind::SET)
      .bytes(b"\x02a\x00")
      .u8(2)
      .bytes(b"12");
    w.f64(-1.0).u32(0);
    assert!(matches!(
      decode_atomic(&w.finish()),
      Err(Error::Malformed(_))
    ));
  }

  #[test]
  fn errors_carry_class_code_and_message() {
    let reply = error_reply(&Error::TooManyChecks(100));
    let mut r = Reader::new(&reply);
    assert_eq!(r.u8().unwrap(), 1);
    assert_eq!(r.u8().unwrap(), 1);
    assert_eq!(r.bytes().unwrap(), b"KVQ_LIMIT_EXCEEDED");
    assert_eq!(r.bytes().unwrap(), b"Too many checks (max 100)");
  }
}
