//! The queue's SQL, on Deno's own `queue` and `queue_running` tables.
//!
//! A message is always in exactly one place: ready in `queue`, leased in
//! `queue_running` (its `deadline` is the lease's end), or gone:
//! acknowledged, or written to its dead-letter keys, or (unreadable) set
//! aside. Each move is part of one transaction. kvq finds rows by their
//! full primary key, which it keeps in memory, so no statement scans a
//! table.
//!
//! kvq's claims carry [`CLAIM_MARK`] at the end of their id in
//! `queue_running`, so a sweep can tell them from Deno's: Deno writes its
//! claim's deadline as the message's due time + 5 s (already past for a
//! backlog message) and never renews it, then takes it back itself by a
//! cleanup every 60 s; kvq must not take such a claim back while Deno may
//! still run it. Deno finds running rows by the id it gave them, so it
//! never meets the mark; a message always goes back to `queue` unmarked.

use denokv_proto::Enqueue;
use denokv_proto::KvValue;
use rusqlite::params;
use rusqlite::Connection;
use rusqlite::OptionalExtension;

use super::ids;
use super::kv;
use super::schema;
use crate::engine::Claimed;
use crate::engine::Failed;
use crate::engine::LeaseKey;
use crate::error::Error;
use crate::error::Result;

/// Deno's default retry schedule: six attempts in all.
pub const DEFAULT_BACKOFF_SCHEDULE: [u32; 5] = [100, 1000, 5000, 30000, 60000];

const STATEMENT_ADD_READY: &str =
  "insert into queue (ts, id, data, backoff_schedule, keys_if_undelivered) \
   values (?, ?, ?, ?, ?)";
const STATEMENT_NEXT_READY: &str =
  "select ts, id, data from queue where ts <= ? \
   order by ts, id limit ?";
const STATEMENT_MOVE_TO_RUNNING: &str = "insert into queue_running \
   (deadline, id, data, backoff_schedule, keys_if_undelivered) \
   select ?, ?, data, backoff_schedule, keys_if_undelivered from queue where ts = ? and id = ?";
const STATEMENT_REMOVE_READY: &str =
  "delete from queue where ts = ? and id = ?";
const STATEMENT_EARLIEST_READY: &str =
  "select ts from queue order by ts limit 1";
const STATEMENT_REMOVE_RUNNING: &str =
  "delete from queue_running where deadline = ? and id = ?";
const STATEMENT_GET_RUNNING: &str =
  "select data, backoff_schedule, keys_if_undelivered \
   from queue_running where deadline = ? and id = ?";
const STATEMENT_RELEASE: &str = "insert into queue (ts, id, data, backoff_schedule, keys_if_undelivered) \
   select ?, ?, data, backoff_schedule, keys_if_undelivered from queue_running where deadline = ? and id = ?";
const STATEMENT_RENEW: &str =
  "update queue_running set deadline = ? where deadline = ? and id = ?";
const STATEMENT_KVQ_PAST_DEADLINE: &str =
  "select deadline, id from queue_running \
   where deadline <= ? and id glob '*~kvq' order by deadline limit 256";
const STATEMENT_FOREIGN_PAST_DEADLINE: &str =
  "select deadline, id from queue_running \
   where deadline <= ? and not id glob '*~kvq' order by deadline limit 256";
const STATEMENT_SET_ASIDE: &str =
  "insert or replace into kvq_unreadable_queue \
   (id, data, backoff_schedule, keys_if_undelivered, reason, set_aside_ms) \
   select ?, data, backoff_schedule, keys_if_undelivered, ?, ? \
   from queue_running where deadline = ? and id = ?";

/// The end of a kvq claim's id in `queue_running` (see the module comment).
pub const CLAIM_MARK: &str = "~kvq";

/// How long after its deadline a foreign (Deno) claim is taken back: Deno's
/// own cleanup runs every 60 s with 10% jitter, so by then a live Deno
/// would have taken it back itself.
pub const FOREIGN_CLAIM_GRACE_MS: i64 = 66_000;

/// A message id as `queue` holds it: without kvq's claim mark.
pub fn unmarked(id: &str) -> &str {
  id.strip_suffix(CLAIM_MARK).unwrap_or(id)
}

/// Inserts a ready message and returns its due time.
pub fn insert_ready(tx: &Connection, enqueue: &Enqueue) -> Result<i64> {
  let ts = enqueue.deadline.timestamp_millis();
  let schedule = enqueue
    .backoff_schedule
    .as_deref()
    .unwrap_or(&DEFAULT_BACKOFF_SCHEDULE);
  let schedule = serde_json::to_string(schedule)
    .map_err(|e| Error::Internal(e.to_string()))?;
  let keys = serde_json::to_string(&enqueue.keys_if_undelivered)
    .map_err(|e| Error::Internal(e.to_string()))?;
  // Both JSON columns must have SQLite's TEXT storage class: Deno panics on
  // a BLOB there. `String` binds as TEXT.
  tx.prepare_cached(STATEMENT_ADD_READY)?.execute(params![
    ts,
    ids::next_id(),
    enqueue.payload,
    schedule,
    keys
  ])?;
  Ok(ts)
}

/// Leases up to `max` messages due at `now`, oldest first (then in enqueue
/// order), until `deadline`.
pub fn claim(
  tx: &Connection,
  now: i64,
  deadline: i64,
  max: usize,
) -> Result<Vec<Claimed>> {
  let ready = tx
    .prepare_cached(STATEMENT_NEXT_READY)?
    .query_map(params![now, max as i64], |r| {
      Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, bytes(r, 2)?))
    })?
    .collect::<Result<Vec<_>, _>>()?;
  let mut move_stmt = tx.prepare_cached(STATEMENT_MOVE_TO_RUNNING)?;
  let mut remove_stmt = tx.prepare_cached(STATEMENT_REMOVE_READY)?;
  let mut claimed = Vec::with_capacity(ready.len());
  for (ts, id, payload) in ready {
    let marked = format!("{}{CLAIM_MARK}", unmarked(&id));
    move_stmt.execute(params![deadline, marked, ts, id])?;
    remove_stmt.execute(params![ts, id])?;
    claimed.push(Claimed {
      lease: LeaseKey::anonymous(deadline, marked),
      payload,
      named: None,
    });
  }
  Ok(claimed)
}

/// The earliest due time in `queue`, if any message is there.
pub fn earliest_ready(conn: &Connection) -> Result<Option<i64>> {
  Ok(
    conn
      .prepare_cached(STATEMENT_EARLIEST_READY)?
      .query_row([], |r| r.get(0))
      .optional()?,
  )
}

/// Acknowledges a handled message. Returns false when the row was no longer
/// ours (the lease had lapsed and another process took it back).
pub fn acknowledge(tx: &Connection, lease: &LeaseKey) -> Result<bool> {
  let n = tx
    .prepare_cached(STATEMENT_REMOVE_RUNNING)?
    .execute(params![lease.deadline, lease.id])?;
  Ok(n == 1)
}

/// Gives a leased message back untouched: ready again now, its attempt not
/// counted (a listener that stopped before it could run the handler).
pub fn release(tx: &Connection, lease: &LeaseKey, now: i64) -> Result<bool> {
  let n = tx.prepare_cached(STATEMENT_RELEASE)?.execute(params![
    now,
    unmarked(&lease.id),
    lease.deadline,
    lease.id
  ])?;
  if n == 1 {
    acknowledge(tx, lease)?;
  }
  Ok(n == 1)
}

/// Records a failed attempt (a handler's failure, or a lapsed lease): the
/// message goes back along its backoff schedule, or, with no retries left,
/// to every `keysIfUndelivered` key under one new version.
pub fn fail(tx: &Connection, lease: &LeaseKey, now: i64) -> Result<Failed> {
  let row = tx
    .prepare_cached(STATEMENT_GET_RUNNING)?
    .query_row(params![lease.deadline, lease.id], |r| {
      Ok((bytes(r, 0)?, text(r, 1), text(r, 2)))
    })
    .optional()?;
  let Some((data, schedule, keys)) = row else {
    return Ok(Failed::Gone);
  };
  // Read both JSON columns before anything moves: a row kvq cannot read
  // is set aside whole, never half-processed and never deleted.
  let parsed = schedule.and_then(|schedule| {
    // Deno writes "null" for no schedule in some versions: no retry.
    let schedule = serde_json::from_str::<Option<Vec<u64>>>(&schedule)
      .map_err(|e| format!("backoff_schedule: {e}"))?
      .unwrap_or_default();
    let keys: Vec<Vec<u8>> = serde_json::from_str(&keys?)
      .map_err(|e| format!("keys_if_undelivered: {e}"))?;
    Ok((schedule, keys))
  });
  let (schedule, keys) = match parsed {
    Ok(parsed) => parsed,
    Err(reason) => {
      set_aside(tx, lease, &reason, now)?;
      return Ok(Failed::SetAside);
    }
  };
  tx.prepare_cached(STATEMENT_REMOVE_RUNNING)?
    .execute(params![lease.deadline, lease.id])?;
  if let Some((first, rest)) = schedule.split_first() {
    let ts = now + *first as i64;
    let rest = serde_json::to_string(rest)
      .map_err(|e| Error::Internal(e.to_string()))?;
    tx.prepare_cached(STATEMENT_ADD_READY)?.execute(params![
      ts,
      unmarked(&lease.id),
      data,
      rest,
      keys_json(&keys)?
    ])?;
    return Ok(Failed::Requeued);
  }
  if !keys.is_empty() {
    let version = kv::bump_version(tx, crate::encoding::version_step())?;
    let value = KvValue::V8(data);
    for key in &keys {
      kv::put(tx, key, &value, version, -1)?;
    }
  }
  Ok(Failed::Undelivered(keys))
}

fn keys_json(keys: &[Vec<u8>]) -> Result<String> {
  serde_json::to_string(keys).map_err(|e| Error::Internal(e.to_string()))
}

/// A JSON column as text. Deno stores TEXT, but the columns are declared
/// blob, so a foreign writer may have stored the same JSON as a BLOB. The
/// error is the reason the row cannot be read.
fn text(row: &rusqlite::Row, i: usize) -> std::result::Result<String, String> {
  let column = ["data", "backoff_schedule", "keys_if_undelivered"][i.min(2)];
  match row.get_ref(i) {
    Ok(rusqlite::types::ValueRef::Blob(b))
    | Ok(rusqlite::types::ValueRef::Text(b)) => String::from_utf8(b.to_vec())
      .map_err(|_| format!("{column} is not UTF-8")),
    Ok(other) => Err(format!(
      "{column} is {:?}, not JSON text",
      other.data_type()
    )),
    Err(e) => Err(format!("{column}: {e}")),
  }
}

/// Extends leases; returns, per lease, whether the row was still ours.
pub fn renew(
  tx: &Connection,
  leases: &[LeaseKey],
  deadline: i64,
) -> Result<Vec<bool>> {
  let mut stmt = tx.prepare_cached(STATEMENT_RENEW)?;
  leases
    .iter()
    .map(|l| Ok(stmt.execute(params![deadline, l.deadline, l.id])? == 1))
    .collect()
}

/// Leases that may be taken back at `now`, a page at a time: kvq's own
/// that ran out (their holder died), and foreign ones (Deno's) once Deno's
/// own cleanup would have taken them back.
pub fn lapsed(conn: &Connection, now: i64) -> Result<Vec<LeaseKey>> {
  let mut out = Vec::new();
  for (sql, at) in [
    (STATEMENT_KVQ_PAST_DEADLINE, now),
    (
      STATEMENT_FOREIGN_PAST_DEADLINE,
      now - FOREIGN_CLAIM_GRACE_MS,
    ),
  ] {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt
      .query_map([at], |r| Ok(LeaseKey::anonymous(r.get(0)?, r.get(1)?)))?;
    for row in rows {
      out.push(row?);
    }
  }
  Ok(out)
}

/// Moves a running message that cannot be read out of the queue, into
/// `kvq_unreadable_queue` (created when first needed), with the reason.
pub fn set_aside(
  tx: &Connection,
  lease: &LeaseKey,
  reason: &str,
  now: i64,
) -> Result<()> {
  tx.execute_batch(schema::CREATE_UNREADABLE_TABLE)?;
  tx.prepare_cached(STATEMENT_SET_ASIDE)?.execute(params![
    unmarked(&lease.id),
    reason,
    now,
    lease.deadline,
    lease.id
  ])?;
  tx.prepare_cached(STATEMENT_REMOVE_RUNNING)?
    .execute(params![lease.deadline, lease.id])?;
  Ok(())
}

/// A blob column's bytes; a foreign writer may have stored text.
fn bytes(row: &rusqlite::Row, i: usize) -> rusqlite::Result<Vec<u8>> {
  match row.get_ref(i)? {
    rusqlite::types::ValueRef::Text(t) => Ok(t.to_vec()),
    _ => row.get(i),
  }
}
