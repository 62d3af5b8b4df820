//! The management API of named queues on SQLite ([`NamedAdmin`]): counts,
//! peek, dead letters, cancel, redrive, purge, totals, the list of
//! queues. Reads run in a read transaction; each change in a write
//! transaction of its own, between the engine's turns.

use rusqlite::params;
use rusqlite::Connection;
use rusqlite::OptionalExtension;

use super::named;
use crate::engine::NamedAdmin;
use crate::engine::NamedAnswer;
use crate::engine::NamedRow;
use crate::error::Result;

const COUNTS: &str = "select \
  coalesce(sum(state = 0 and due <= ?2), 0), \
  coalesce(sum(state = 0 and due > ?2), 0), \
  coalesce(sum(state = 1), 0), coalesce(sum(state = 2), 0) \
  from kvq_named where queue = ?1";
const DEAD_COUNT: &str = "select count(*) from kvq_named_dead where queue = ?";
const PEEK_READY: &str = "select id, due, enqueued_at, attempts, grp, seq, \
  last_error, data from kvq_named where queue = ? and state = 0 \
  order by due, id limit ?";
const PEEK_WAITING: &str = "select id, due, enqueued_at, attempts, grp, seq, \
  last_error, data from kvq_named where queue = ? and state = 1 \
  order by grp, seq limit ?";
const DEAD: &str = "select id, failed_at, enqueued_at, attempts, grp, seq, \
  last_error, data from kvq_named_dead where queue = ? order by id limit ?";
// A ready message is a group's head (or has no group) and leaves at
// once; a waiting one is marked cancelled, and dropped from its group's
// list when its turn comes (named.rs: a message names only the next one,
// so the one before it cannot be found without a scan).
const CANCEL_READY: &str = "delete from kvq_named \
  where queue = ? and id = ? and state = 0 returning grp, next";
const CANCEL_WAITING: &str = "update kvq_named set state = 3, data = x'' \
  where queue = ? and id = ? and state = 1";
const DEAD_IDS: &str =
  "select id from kvq_named_dead where queue = ? order by id";
const REDRIVE_ROW: &str =
  "delete from kvq_named_dead where queue = ? and id = ? \
  returning grp, max_attempts, enqueued_at, data";
// Leaves running messages alone, each the last of its group from now.
const PURGE: &str =
  "delete from kvq_named where queue = ? and state in (0, 1, 3)";
const PURGE_LINKS: &str = "update kvq_named set next = null \
  where queue = ? and next is not null";
const PURGE_GROUPS: &str = "delete from kvq_named_groups where queue = ?";
const PURGE_TAILS: &str = "insert into kvq_named_groups \
  (queue, grp, tail, tail_seq) select queue, grp, id, seq from kvq_named \
  where queue = ? and grp <> ''";
const PENDING: &str =
  "select count(*) from kvq_named where queue = ? and state in (0, 1)";
const PURGE_DEAD: &str = "delete from kvq_named_dead where queue = ?";
const COUNTER: &str =
  "select value from kvq_named_counters where queue = ? and name = ?";
const OLDEST_DUE: &str = "select min(due) from kvq_named \
  where queue = ? and state = 0 and due <= ?";
const QUEUES: &str = "select queue from kvq_named \
  union select queue from kvq_named_dead \
  union select queue from kvq_named_counters order by 1";

/// Answers `what` (see the module comment). A store without named tables
/// answers as an empty queue.
pub fn answer(
  conn: &Connection,
  exists: bool,
  what: &NamedAdmin,
  now: i64,
) -> Result<NamedAnswer> {
  if !exists {
    return Ok(match what {
      NamedAdmin::Counts(_) => NamedAnswer::Counts([0; 5]),
      NamedAdmin::Peek(..) | NamedAdmin::DeadLetters(..) => {
        NamedAnswer::Messages(Vec::new())
      }
      NamedAdmin::Cancel(..)
      | NamedAdmin::Redrive(..)
      | NamedAdmin::Purge(..) => NamedAnswer::Changed(0),
      NamedAdmin::Totals(_) => NamedAnswer::Totals([0; 4], None),
      NamedAdmin::Queues => NamedAnswer::Queues(Vec::new()),
      NamedAdmin::DedupOf(..) => NamedAnswer::Dedup(None),
    });
  }
  match what {
    NamedAdmin::Counts(q) => in_read(conn, |c| counts(c, q, now)),
    NamedAdmin::Peek(q, limit) => in_read(conn, |c| peek(c, q, *limit, now)),
    NamedAdmin::DeadLetters(q, limit) => {
      let rows = rows(conn, DEAD, q, *limit, |_| "dead")?;
      Ok(NamedAnswer::Messages(rows))
    }
    NamedAdmin::Totals(q) => in_read(conn, |c| totals(c, q, now)),
    NamedAdmin::Queues => {
      let mut stmt = conn.prepare_cached(QUEUES)?;
      let names = stmt.query_map([], |r| r.get(0))?;
      Ok(NamedAnswer::Queues(names.collect::<Result<_, _>>()?))
    }
    NamedAdmin::DedupOf(q, dedup_id) => {
      Ok(NamedAnswer::Dedup(named::dedup_of(conn, q, dedup_id, now)?))
    }
    NamedAdmin::Cancel(q, id) => in_write(conn, |c| cancel(c, q, id, now)),
    NamedAdmin::Redrive(q, ids) => {
      in_write(conn, |c| redrive(c, q, ids.as_deref(), now))
    }
    NamedAdmin::Purge(q, dead) => in_write(conn, |c| {
      // Pending messages other than cancelled ones (already uncounted).
      let mut n = counted_pending(c, q)?;
      for sql in [PURGE, PURGE_LINKS, PURGE_GROUPS, PURGE_TAILS] {
        c.prepare_cached(sql)?.execute([q])?;
      }
      if *dead {
        n += c.prepare_cached(PURGE_DEAD)?.execute([q])?;
      }
      Ok(NamedAnswer::Changed(n as u64))
    }),
  }
}

fn in_read<T>(
  conn: &Connection,
  f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
  conn.execute_batch("begin deferred")?;
  let out = f(conn);
  conn.execute_batch("commit")?;
  out
}

fn in_write<T>(
  conn: &Connection,
  f: impl FnOnce(&Connection) -> Result<T>,
) -> Result<T> {
  conn.execute_batch("begin immediate")?;
  match f(conn) {
    Ok(v) => {
      conn.execute_batch("commit")?;
      Ok(v)
    }
    Err(e) => {
      let _ = conn.execute_batch("rollback");
      Err(e)
    }
  }
}

fn counts(conn: &Connection, queue: &str, now: i64) -> Result<NamedAnswer> {
  let (ready, delayed, waiting, running) = conn
    .prepare_cached(COUNTS)?
    .query_row(params![queue, now], |r| {
      Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })?;
  let dead: u64 = conn
    .prepare_cached(DEAD_COUNT)?
    .query_row([queue], |r| r.get(0))?;
  Ok(NamedAnswer::Counts([
    ready, delayed, waiting, running, dead,
  ]))
}

fn peek(
  conn: &Connection,
  queue: &str,
  limit: usize,
  now: i64,
) -> Result<NamedAnswer> {
  let mut out = rows(conn, PEEK_READY, queue, limit, |due| {
    if due <= now {
      "ready"
    } else {
      "delayed"
    }
  })?;
  if out.len() < limit {
    let rest = limit - out.len();
    out.extend(rows(conn, PEEK_WAITING, queue, rest, |_| "waiting")?);
  }
  Ok(NamedAnswer::Messages(out))
}

/// Rows of a query shaped like [`PEEK_READY`], each given a state by its
/// due time.
fn rows(
  conn: &Connection,
  sql: &str,
  queue: &str,
  limit: usize,
  state: impl Fn(i64) -> &'static str,
) -> Result<Vec<NamedRow>> {
  let mut stmt = conn.prepare_cached(sql)?;
  let rows = stmt.query_map(params![queue, limit as i64], |r| {
    let due: i64 = r.get(1)?;
    // `''` (and 0) in kvq_named, null in kvq_named_dead: no group.
    let group = match r.get::<_, Option<String>>(4)? {
      Some(g) if !g.is_empty() => {
        Some((g, r.get::<_, Option<i64>>(5)?.unwrap_or(0)))
      }
      _ => None,
    };
    Ok(NamedRow {
      id: r.get(0)?,
      state: state(due),
      due,
      enqueued_at: r.get(2)?,
      attempts: r.get(3)?,
      group,
      last_error: r.get(6)?,
      payload: r.get(7)?,
    })
  })?;
  Ok(rows.collect::<Result<_, _>>()?)
}

fn totals(conn: &Connection, queue: &str, now: i64) -> Result<NamedAnswer> {
  let mut totals = [0i64; 4];
  let names = ["enqueued", "acked", "retried", "dead"];
  for (slot, name) in totals.iter_mut().zip(names) {
    *slot = conn
      .prepare_cached(COUNTER)?
      .query_row(params![queue, name], |r| r.get(0))
      .optional()?
      .unwrap_or(0);
  }
  let oldest: Option<i64> = conn
    .prepare_cached(OLDEST_DUE)?
    .query_row(params![queue, now], |r| r.get(0))?;
  Ok(NamedAnswer::Totals(totals, oldest))
}

fn cancel(
  conn: &Connection,
  queue: &str,
  id: &str,
  now: i64,
) -> Result<NamedAnswer> {
  let ready = conn
    .prepare_cached(CANCEL_READY)?
    .query_row(params![queue, id], |r| {
      Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })
    .optional()?;
  if let Some((group, next)) = ready {
    if !group.is_empty() {
      named::promote(conn, queue, &group, next, now)?;
    }
    return Ok(NamedAnswer::Changed(1));
  }
  let waiting = conn
    .prepare_cached(CANCEL_WAITING)?
    .execute(params![queue, id])?;
  Ok(NamedAnswer::Changed(waiting as u64))
}

/// How many messages of `queue` are ready or waiting.
fn counted_pending(conn: &Connection, queue: &str) -> Result<usize> {
  Ok(
    conn
      .prepare_cached(PENDING)?
      .query_row([queue], |r| r.get(0))?,
  )
}

fn redrive(
  conn: &Connection,
  queue: &str,
  ids: Option<&[String]>,
  now: i64,
) -> Result<NamedAnswer> {
  let ids: Vec<String> = match ids {
    Some(ids) => ids.to_vec(),
    None => {
      let mut stmt = conn.prepare_cached(DEAD_IDS)?;
      let all = stmt.query_map([queue], |r| r.get(0))?;
      all.collect::<Result<_, _>>()?
    }
  };
  let mut n = 0;
  for id in ids {
    let row = conn
      .prepare_cached(REDRIVE_ROW)?
      .query_row(params![queue, id], |r| {
        Ok((
          r.get::<_, Option<String>>(0)?,
          r.get::<_, u32>(1)?,
          r.get::<_, i64>(2)?,
          r.get::<_, Vec<u8>>(3)?,
        ))
      })
      .optional()?;
    let Some((group, max_attempts, enqueued_at, payload)) = row else {
      continue;
    };
    named::add(
      conn,
      queue,
      &id,
      now,
      group.as_deref(),
      max_attempts,
      enqueued_at,
      &payload,
    )?;
    n += 1;
  }
  if n > 0 {
    named::count(conn, queue, named::Counter::Enqueued, n)?;
  }
  Ok(NamedAnswer::Changed(n as u64))
}
