//! The request and reply of kvq's own `inspect` op (engine/inspect.rs),
//! which `kvq copy` uses: JSON, since a copy reads a page at a time and
//! is not on any hot path. Bytes travel as lowercase hex.
//!
//! Requests: `{"expiries": ["<key hex>", ...]}` or
//! `{"pending": {"cursor": null | "<cursor>", "limit": n}}`.
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
  Err(bad("neither expiries nor pending"))
}

/// Encodes an inspect reply.
pub fn encode(answer: Inspected) -> Vec<u8> {
  let value = match answer {
    Inspected::Expiries(e) => json!({ "expiries": e }),
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
