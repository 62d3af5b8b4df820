//! The request and reply of kvq's own `inspect` op (engine/inspect.rs),
//! which `kvq copy` uses: JSON, since a copy reads a page at a time and
//! is not on any hot path. Bytes travel as lowercase hex.
//!
//! Requests: `{"expiries": ["<key hex>", ...]}` or
//! `{"pending": {"cursor": null | "<cursor>", "limit": n}}`, or a named
//! queue's management request `{"named": {"op", "queue", ...}}` (see
//! [`decode_named`]), answered `{"named": ...}` (see [`encode_named`]).
//!
//! Replies (after the OK status byte, docs/wire.md): `{"expiries": null |
//! [ms | null, ...]}`; `{"pending": null | {"messages": [{"dueMs",
//! "leased", "payload": "<hex>", "backoffSchedule": null | [ms, ...],
//! "keysIfUndelivered": [[byte, ...], ...]}, ...], "cursor": null |
//! "<cursor>"}}`. `null` at the top: the backend cannot tell (KV Connect).

use serde_json::json;
use serde_json::Value;

use crate::engine::Inspect;
use crate::engine::Inspected;
use crate::engine::NamedAdmin;
use crate::engine::NamedAnswer;
use crate::error::Error;
use crate::error::Result;
use crate::wire::Writer;

/// The most keys or messages one request may ask for.
pub const MAX_INSPECT: usize = 1000;

/// Decodes an inspect request.
pub fn decode(request: &[u8]) -> Result<Inspect> {
  let bad = |what: &str| Error::Malformed(format!("inspect request: {what}"));
  let value: Value =
    serde_json::from_slice(request).map_err(|e| bad(&e.to_string()))?;
  if let Some(keys) = value.get("expiries") {
    let keys = keys.as_array().ok_or_else(|| bad("expiries"))?;
    if keys.len() > MAX_INSPECT {
      return Err(bad(&format!("more than {MAX_INSPECT} keys")));
    }
    let keys = keys
      .iter()
      .map(|k| {
        k.as_str()
          .and_then(|k| hex::decode(k).ok())
          .ok_or_else(|| bad("a key"))
      })
      .collect::<Result<Vec<_>>>()?;
    return Ok(Inspect::Expiries(keys));
  }
  if let Some(pending) = value.get("pending") {
    let cursor = match pending.get("cursor") {
      None | Some(Value::Null) => None,
      Some(Value::String(c)) => Some(c.clone()),
      Some(_) => return Err(bad("cursor")),
    };
    let limit = pending
      .get("limit")
      .and_then(Value::as_u64)
      .filter(|n| (1..=MAX_INSPECT as u64).contains(n))
      .ok_or_else(|| bad("limit"))?;
    return Ok(Inspect::Pending {
      cursor,
      limit: limit as usize,
    });
  }
  if let Some(named) = value.get("named") {
    return Ok(Inspect::Named(decode_named(named)?));
  }
  Err(bad("neither expiries, pending nor named"))
}

/// A named queue's management request: `op` one of counts, peek, dead,
/// cancel, redrive, purge, totals, queues; `queue` (all but queues);
/// `limit` (peek, dead); `id` (cancel); `ids` (redrive: null for all);
/// `dead` (purge).
fn decode_named(v: &Value) -> Result<NamedAdmin> {
  let bad = |what: &str| Error::Malformed(format!("named request: {what}"));
  let op = v
    .get("op")
    .and_then(Value::as_str)
    .ok_or_else(|| bad("op"))?;
  if op == "queues" {
    return Ok(NamedAdmin::Queues);
  }
  let queue = v
    .get("queue")
    .and_then(Value::as_str)
    .filter(|q| !q.is_empty())
    .ok_or_else(|| bad("queue"))?
    .to_string();
  let limit = || {
    v.get("limit")
      .and_then(Value::as_u64)
      .filter(|n| (1..=100_000).contains(n))
      .map(|n| n as usize)
      .ok_or_else(|| bad("limit"))
  };
  Ok(match op {
    "counts" => NamedAdmin::Counts(queue),
    "peek" => NamedAdmin::Peek(queue, limit()?),
    "dead" => NamedAdmin::DeadLetters(queue, limit()?),
    "cancel" => {
      let id = v
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("id"))?;
      NamedAdmin::Cancel(queue, id.to_string())
    }
    "redrive" => {
      let ids = match v.get("ids") {
        None | Some(Value::Null) => None,
        Some(Value::Array(ids)) => Some(
          ids
            .iter()
            .map(|id| id.as_str().map(str::to_string).ok_or_else(|| bad("ids")))
            .collect::<Result<Vec<_>>>()?,
        ),
        Some(_) => return Err(bad("ids")),
      };
      NamedAdmin::Redrive(queue, ids)
    }
    "purge" => {
      let dead = v.get("dead").and_then(Value::as_bool).unwrap_or(false);
      NamedAdmin::Purge(queue, dead)
    }
    "totals" => NamedAdmin::Totals(queue),
    "dedup" => {
      let id = v
        .get("dedupId")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("dedupId"))?;
      NamedAdmin::DedupOf(queue, id.to_string())
    }
    other => return Err(bad(&format!("unknown op {other}"))),
  })
}

/// A named queue's management answer: `{"counts": [ready, delayed,
/// waiting, running, dead]}`, `{"messages": [{"id", "state", "due",
/// "enqueuedAt", "attempts", "group", "seq", "lastError", "payload":
/// "<hex>"}, ...]}`, `{"changed": n}`, `{"totals": [enqueued, acked,
/// retried, dead], "oldestDue": ms | null}` or `{"queues": [...]}`.
fn encode_named(answer: NamedAnswer) -> Value {
  match answer {
    NamedAnswer::Counts(c) => json!({ "counts": c }),
    NamedAnswer::Messages(rows) => {
      let rows: Vec<Value> = rows
        .into_iter()
        .map(|m| {
          let (group, seq) = match m.group {
            Some((g, s)) => (json!(g), json!(s)),
            None => (Value::Null, Value::Null),
          };
          json!({
            "id": m.id,
            "state": m.state,
            "due": m.due,
            "enqueuedAt": m.enqueued_at,
            "attempts": m.attempts,
            "group": group,
            "seq": seq,
            "lastError": m.last_error,
            "payload": hex::encode(&m.payload),
          })
        })
        .collect();
      json!({ "messages": rows })
    }
    NamedAnswer::Changed(n) => json!({ "changed": n }),
    NamedAnswer::Totals(t, oldest) => {
      json!({ "totals": t, "oldestDue": oldest })
    }
    NamedAnswer::Queues(q) => json!({ "queues": q }),
    NamedAnswer::Dedup(id) => json!({ "dedup": id }),
  }
}

/// Encodes an inspect reply.
pub fn encode(answer: Inspected) -> Vec<u8> {
  let value = match answer {
    Inspected::Expiries(e) => json!({ "expiries": e }),
    Inspected::Named(answer) => json!({ "named": encode_named(answer) }),
    Inspected::Pending(None) => json!({ "pending": null }),
    Inspected::Pending(Some(page)) => {
      let messages: Vec<Value> = page
        .messages
        .iter()
        .map(|m| {
          // Stored JSON that does not parse is handed on as null / []:
          // the copy then enqueues with the defaults.
          let schedule: Value =
            serde_json::from_str(&m.backoff_schedule).unwrap_or(Value::Null);
          let keys: Value = serde_json::from_str(&m.keys_if_undelivered)
            .unwrap_or_else(|_| json!([]));
          json!({
            "dueMs": m.due_ms,
            "leased": m.leased,
            "payload": hex::encode(&m.payload),
            "backoffSchedule": schedule,
            "keysIfUndelivered": keys,
          })
        })
        .collect();
      json!({ "pending": { "messages": messages, "cursor": page.cursor } })
    }
  };
  let mut w = Writer::ok();
  w.raw(value.to_string().as_bytes());
  w.finish()
}
