//! The queue's SQL, on Deno's own `queue` and `queue_running` tables.
//!
//! A message is always in exactly one place: ready in `queue`, leased in
//! `queue_running` (its `deadline` is the lease's end), or gone:
//! acknowledged, or written to its dead-letter keys. Each move is part of
//! one transaction. kvq finds rows by their full primary key, which it keeps
//! in memory, so no statement scans a table.

use denokv_proto::Enqueue;
use denokv_proto::KvValue;
use rusqlite::params;
use rusqlite::Connection;
use rusqlite::OptionalExtension;
use rusqlite::Transaction;

use super::backend;
use super::ids;
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
   select ?, id, data, backoff_schedule, keys_if_undelivered from queue where ts = ? and id = ?";
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
   select ?, id, data, backoff_schedule, keys_if_undelivered from queue_running where deadline = ? and id = ?";
const STATEMENT_RENEW: &str =
  "update queue_running set deadline = ? where deadline = ? and id = ?";
const STATEMENT_PAST_DEADLINE: &str = "select deadline, id from queue_running \
   where deadline <= ? order by deadline limit 256";

/// Where a leased row lives: `queue_running`'s primary key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseKey {
  /// The lease's end, in epoch milliseconds.
  pub deadline: i64,
  /// The message id.
  pub id: String,
}

/// A message claimed under a lease.
pub struct Claimed {
  /// Its row in `queue_running`.
  pub lease: LeaseKey,
  /// The V8 payload.
  pub payload: Vec<u8>,
}

/// Inserts a ready message and returns its due time.
pub fn insert_ready(tx: &Transaction, enqueue: &Enqueue) -> Result<i64> {
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
  tx: &Transaction,
  now: i64,
  deadline: i64,
  max: usize,
) -> Result<Vec<Claimed>> {
  let ready = tx
    .prepare_cached(STATEMENT_NEXT_READY)?
    .query_map(params![now, max as i64], |r| {
      Ok((
        r.get::<_, i64>(0)?,
        r.get::<_, String>(1)?,
        r.get::<_, Vec<u8>>(2)?,
      ))
    })?
    .collect::<Result<Vec<_>, _>>()?;
  let mut move_stmt = tx.prepare_cached(STATEMENT_MOVE_TO_RUNNING)?;
  let mut remove_stmt = tx.prepare_cached(STATEMENT_REMOVE_READY)?;
  let mut claimed = Vec::with_capacity(ready.len());
  for (ts, id, payload) in ready {
    move_stmt.execute(params![deadline, ts, id])?;
    remove_stmt.execute(params![ts, id])?;
    claimed.push(Claimed {
      lease: LeaseKey { deadline, id },
      payload,
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
pub fn acknowledge(tx: &Transaction, lease: &LeaseKey) -> Result<bool> {
  let n = tx
    .prepare_cached(STATEMENT_REMOVE_RUNNING)?
    .execute(params![lease.deadline, lease.id])?;
  Ok(n == 1)
}

/// Gives a leased message back untouched: ready again now, its attempt not
/// counted (a listener that stopped before it could run the handler).
pub fn release(tx: &Transaction, lease: &LeaseKey, now: i64) -> Result<bool> {
  let n = tx.prepare_cached(STATEMENT_RELEASE)?.execute(params![
    now,
    lease.deadline,
    lease.id
  ])?;
  if n == 1 {
    acknowledge(tx, lease)?;
  }
  Ok(n == 1)
}

/// What became of a failed attempt.
pub enum Failed {
  /// Back in `queue`, due after its next backoff interval.
  Requeued,
  /// Out of retries: written to these dead-letter keys (maybe none).
  Undelivered(Vec<Vec<u8>>),
  /// The row was no longer ours.
  Gone,
}

/// Records a failed attempt (a handler's failure, or a lapsed lease): the
/// message goes back along its backoff schedule, or, with no retries left,
/// to every `keysIfUndelivered` key under one new version.
pub fn fail(tx: &Transaction, lease: &LeaseKey, now: i64) -> Result<Failed> {
  let row = tx
    .prepare_cached(STATEMENT_GET_RUNNING)?
    .query_row(params![lease.deadline, lease.id], |r| {
      Ok((r.get::<_, Vec<u8>>(0)?, text(r, 1)?, text(r, 2)?))
    })
    .optional()
    .map_err(|e| match e {
      rusqlite::Error::FromSqlConversionFailure(..)
      | rusqlite::Error::InvalidColumnType(..) => {
        Error::Internal(format!("unreadable queue row: {e}"))
      }
      e => Error::Sqlite(e),
    })?;
  let Some((data, schedule, keys)) = row else {
    return Ok(Failed::Gone);
  };
  tx.prepare_cached(STATEMENT_REMOVE_RUNNING)?
    .execute(params![lease.deadline, lease.id])?;
  // Deno writes "null" for no schedule in some versions; it means no retry.
  let schedule: Vec<u64> = serde_json::from_str::<Option<Vec<u64>>>(&schedule)
    .map_err(|e| Error::Internal(format!("backoff_schedule: {e}")))?
    .unwrap_or_default();
  if let Some((first, rest)) = schedule.split_first() {
    let ts = now + *first as i64;
    let rest = serde_json::to_string(rest)
      .map_err(|e| Error::Internal(e.to_string()))?;
    tx.prepare_cached(STATEMENT_ADD_READY)?
      .execute(params![ts, lease.id, data, rest, keys])?;
    return Ok(Failed::Requeued);
  }
  let keys: Vec<Vec<u8>> = serde_json::from_str(&keys)
    .map_err(|e| Error::Internal(format!("keys_if_undelivered: {e}")))?;
  if !keys.is_empty() {
    let version = backend::bump_version(tx, backend::version_step())?;
    let value = KvValue::V8(data);
    for key in &keys {
      backend::put(tx, key, &value, version, -1)?;
    }
  }
  Ok(Failed::Undelivered(keys))
}

/// A JSON column as text. Deno stores TEXT, but the columns are declared
/// blob, so a foreign writer may have stored the same JSON as a BLOB.
fn text(row: &rusqlite::Row, i: usize) -> rusqlite::Result<String> {
  match row.get_ref(i)? {
    rusqlite::types::ValueRef::Blob(b) => String::from_utf8(b.to_vec())
      .map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(
          i,
          rusqlite::types::Type::Blob,
          e.into(),
        )
      }),
    _ => row.get(i),
  }
}

/// Extends leases; returns, per lease, whether the row was still ours.
pub fn renew(
  tx: &Transaction,
  leases: &[LeaseKey],
  deadline: i64,
) -> Result<Vec<bool>> {
  let mut stmt = tx.prepare_cached(STATEMENT_RENEW)?;
  leases
    .iter()
    .map(|l| Ok(stmt.execute(params![deadline, l.deadline, l.id])? == 1))
    .collect()
}

/// Leases that ran out by `now` (a dead process's, or Deno's), a page at a
/// time.
pub fn lapsed(conn: &Connection, now: i64) -> Result<Vec<LeaseKey>> {
  let rows = conn
    .prepare_cached(STATEMENT_PAST_DEADLINE)?
    .query_map([now], |r| {
      Ok(LeaseKey {
        deadline: r.get(0)?,
        id: r.get(1)?,
      })
    })?
    .collect::<Result<Vec<_>, _>>()?;
  Ok(rows)
}
