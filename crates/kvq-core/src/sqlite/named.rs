//! Named queues' SQL (engine/named.rs), in kvq's own tables beside Deno's.
//!
//! `kvq_named` holds every message not yet done, one row each, its
//! `state` saying where it is: 0 ready (due at `due`), 1 waiting behind
//! the head of its ordering group, 2 running (its lease ends at `due`).
//! Rows are keyed by queue, group (`''` for none), sequence number (0 for
//! none) and id, so a group's messages sit side by side: moving a group
//! on touches the page its head leaves. A lease names its row
//! ([`lease_id`]).
//! A move between states is an update of that row, so a payload is
//! written once. Only a group's head (its lowest `seq`) is ever ready or
//! running; when the head leaves, the same transaction makes the next one
//! ready. Dead letters move to `kvq_named_dead`, dedup windows live in
//! `kvq_named_dedup`, and `kvq_named_counters` counts what happened per
//! queue (for rates). The tables are created with the first named
//! enqueue or claim, so a file that never used a named queue stays as
//! Deno left it; Deno ignores them.

use std::collections::HashMap;
use std::sync::Arc;

use denokv_proto::Versionstamp;
use rusqlite::params;
use rusqlite::Connection;
use rusqlite::OptionalExtension;

use crate::engine::Claimed;
use crate::engine::Enqueued;
use crate::engine::Failed;
use crate::engine::LeaseKey;
use crate::engine::NamedEnqueue;
use crate::engine::NamedMeta;
use crate::engine::Verdict;
use crate::engine::LAPSED;
use crate::error::Result;

/// The tables, created when first needed (see the module comment).
pub const CREATE_TABLES: &str = "
create table if not exists kvq_named (
  queue text not null,
  grp text not null,
  seq integer not null,
  id text not null,
  state integer not null,
  due integer not null,
  attempts integer not null,
  max_attempts integer not null,
  enqueued_at integer not null,
  last_error text,
  data blob not null,
  primary key (queue, grp, seq, id)
) without rowid;
create index if not exists kvq_named_by_due on kvq_named (queue, state, due, id);
create index if not exists kvq_named_leases on kvq_named (due) where state = 2;
create table if not exists kvq_named_dead (
  queue text not null,
  id text not null,
  grp text,
  seq integer,
  attempts integer not null,
  max_attempts integer not null,
  enqueued_at integer not null,
  last_error text not null,
  failed_at integer not null,
  data blob not null,
  primary key (queue, id)
) without rowid;
create table if not exists kvq_named_dedup (
  queue text not null,
  dedup_id text not null,
  id text not null,
  versionstamp blob not null,
  until integer not null,
  primary key (queue, dedup_id)
) without rowid;
create index if not exists kvq_named_dedup_until on kvq_named_dedup (until);
create table if not exists kvq_named_counters (
  queue text not null,
  name text not null,
  value integer not null,
  primary key (queue, name)
) without rowid;
";

/// The message states of `kvq_named.state`.
pub const READY: i64 = 0;
/// Behind its group's head.
pub const WAITING: i64 = 1;

const ADD: &str = "insert into kvq_named \
  (queue, id, state, due, grp, seq, attempts, max_attempts, enqueued_at, data) \
  values (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)";

const GROUP_TAIL: &str =
  "select max(seq) from kvq_named where queue = ? and grp = ?";
const DEDUP_GET: &str = "select id, until, versionstamp from kvq_named_dedup \
  where queue = ? and dedup_id = ?";
const DEDUP_PUT: &str = "insert or replace into kvq_named_dedup \
  (queue, dedup_id, id, until, versionstamp) values (?, ?, ?, ?, ?)";
const DEDUP_EXPIRE: &str = "delete from kvq_named_dedup where until <= ?";
const NEXT_READY: &str = "select id, data, attempts, enqueued_at, grp, seq \
  from kvq_named where queue = ? and state = 0 and due <= ? \
  order by due, id limit ?";
const LEASE: &str = "update kvq_named set state = 2, due = ? \
  where queue = ? and grp = ? and seq = ? and id = ?";
const EARLIEST: &str =
  "select min(due) from kvq_named where queue = ? and state = 0";
const RENEW: &str = "update kvq_named set due = ? \
  where queue = ? and grp = ? and seq = ? and id = ? and state = 2 and due = ?";
const DONE: &str = "delete from kvq_named \
  where queue = ? and grp = ? and seq = ? and id = ? and state = 2 and due = ?";
const RELEASE: &str = "update kvq_named set state = 0, due = ? \
  where queue = ? and grp = ? and seq = ? and id = ? and state = 2 and due = ?";
const RETRY: &str = "update kvq_named \
  set state = 0, due = ?, attempts = attempts + 1, last_error = ? \
  where queue = ? and grp = ? and seq = ? and id = ? and state = 2 and due = ?";
const RUNNING_ROW: &str = "select attempts, max_attempts from kvq_named \
  where queue = ? and grp = ? and seq = ? and id = ? and state = 2 and due = ?";
const TO_DEAD: &str = "insert or replace into kvq_named_dead \
  (queue, id, grp, seq, attempts, max_attempts, enqueued_at, last_error, \
  failed_at, data) \
  select queue, id, nullif(grp, ''), nullif(seq, 0), attempts + 1, \
  max_attempts, enqueued_at, ?, ?, data from kvq_named \
  where queue = ? and grp = ? and seq = ? and id = ? and state = 2 and due = ?";
// The next message takes its place in the line of ready messages from
// now (never earlier): a group with a long backlog must not go ahead of
// every other group's head, whose due times are older.
const NEXT_IN_GROUP: &str = "update kvq_named set state = 0, \
  due = max(due, ?3) where queue = ?1 and grp = ?2 and state = 1 \
  and seq = (select min(seq) from kvq_named where queue = ?1 and grp = ?2)";
const LAPSED_LEASES: &str = "select queue, grp, seq, id, due from kvq_named \
  where state = 2 and due <= ? order by due limit 256";
const COUNT: &str = "insert into kvq_named_counters (queue, name, value) \
  values (?, ?, ?) on conflict (queue, name) do update \
  set value = value + excluded.value";
const TABLES_EXIST: &str = "select count(*) > 0 from sqlite_master \
  where type = 'table' and name = 'kvq_named'";

/// A counter of [`Counters`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Counter {
  /// Messages added.
  Enqueued,
  /// Messages handled.
  Acked,
  /// Failed attempts retried.
  Retried,
  /// Messages that became dead letters.
  Dead,
}

impl Counter {
  /// The counter's name in `kvq_named_counters`.
  pub fn name(self) -> &'static str {
    match self {
      Counter::Enqueued => "enqueued",
      Counter::Acked => "acked",
      Counter::Retried => "retried",
      Counter::Dead => "dead",
    }
  }
}

/// A turn's counter increments, kept in memory and written once per queue
/// and counter at commit: a drain of thousands of messages updates each
/// counter row once per transaction, not once per message.
#[derive(Default)]
pub struct Counters(HashMap<(Arc<str>, Counter), i64>);

impl Counters {
  /// Counts `n` more for `queue`.
  pub fn add(&mut self, queue: &Arc<str>, counter: Counter, n: i64) {
    *self.0.entry((queue.clone(), counter)).or_default() += n;
  }

  /// Writes the increments (inside the turn's transaction) and forgets
  /// them.
  pub fn flush(&mut self, tx: &Connection) -> Result<()> {
    if self.0.is_empty() {
      return Ok(());
    }
    let mut stmt = tx.prepare_cached(COUNT)?;
    for ((queue, counter), n) in self.0.drain() {
      stmt.execute(params![&*queue, counter.name(), n])?;
    }
    Ok(())
  }

  /// Takes the increments out, to add them elsewhere.
  pub fn drain(
    &mut self,
  ) -> impl Iterator<Item = ((Arc<str>, Counter), i64)> + '_ {
    self.0.drain()
  }

  /// Forgets the increments of a turn that was rolled back.
  pub fn clear(&mut self) {
    self.0.clear();
  }
}

/// The id holding `dedup_id`'s window in `queue` at `now`, if any.
pub fn dedup_of(
  conn: &Connection,
  queue: &str,
  dedup_id: &str,
  now: i64,
) -> Result<Option<String>> {
  let first = conn
    .prepare_cached(DEDUP_GET)?
    .query_row(params![queue, dedup_id], |r| {
      Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })
    .optional()?;
  Ok(first.filter(|(_, until)| *until > now).map(|(id, _)| id))
}

/// Whether the tables exist (another process may have created them).
pub fn tables_exist(conn: &Connection) -> Result<bool> {
  Ok(conn.query_row(TABLES_EXIST, [], |r| r.get(0))?)
}

/// Creates the tables if missing (inside the turn's transaction).
pub fn create_tables(tx: &Connection) -> Result<()> {
  tx.execute_batch(CREATE_TABLES)?;
  Ok(())
}

/// Stores one message (or finds its duplicate); the caller created the
/// tables. `Ok(true)` in the second place: it is ready (not waiting).
pub fn enqueue(
  tx: &Connection,
  e: &NamedEnqueue,
  versionstamp: &Versionstamp,
  now: i64,
  counters: &mut Counters,
) -> Result<(Enqueued, bool)> {
  if let Some((dedup_id, until)) = &e.dedup {
    let first = tx
      .prepare_cached(DEDUP_GET)?
      .query_row(params![&*e.queue, dedup_id], |r| {
        Ok((
          r.get::<_, String>(0)?,
          r.get::<_, i64>(1)?,
          r.get::<_, Vec<u8>>(2)?,
        ))
      })
      .optional()?;
    if let Some((id, window_end, stamp)) = first {
      if window_end > now {
        let mut vs = [0u8; 10];
        if stamp.len() == 10 {
          vs.copy_from_slice(&stamp);
        }
        return Ok((Enqueued::Duplicate(id, vs), false));
      }
    }
    tx.prepare_cached(DEDUP_EXPIRE)?.execute([now])?;
    tx.prepare_cached(DEDUP_PUT)?.execute(params![
      &*e.queue,
      dedup_id,
      e.id,
      until,
      versionstamp.as_slice()
    ])?;
  }
  let ready = add(
    tx,
    &e.queue,
    &e.id,
    e.due,
    e.group.as_deref(),
    e.max_attempts,
    e.enqueued_at,
    &e.payload,
  )?;
  counters.add(&e.queue, Counter::Enqueued, 1);
  Ok((Enqueued::Added, ready))
}

/// Inserts a message at the end of its group (ready when it has no
/// group or the group is empty, waiting otherwise); true if ready.
#[allow(clippy::too_many_arguments)]
pub fn add(
  tx: &Connection,
  queue: &str,
  id: &str,
  due: i64,
  group: Option<&str>,
  max_attempts: u32,
  enqueued_at: i64,
  payload: &[u8],
) -> Result<bool> {
  let (state, seq) = match group {
    None => (READY, 0),
    Some(group) => {
      let tail: Option<i64> = tx
        .prepare_cached(GROUP_TAIL)?
        .query_row(params![queue, group], |r| r.get(0))?;
      match tail {
        None => (READY, 1),
        Some(last) => (WAITING, last + 1),
      }
    }
  };
  tx.prepare_cached(ADD)?.execute(params![
    queue,
    id,
    state,
    due,
    group.unwrap_or_default(),
    seq,
    max_attempts,
    enqueued_at,
    payload
  ])?;
  Ok(state == READY)
}

/// Makes the first waiting message of `group` ready at `now` at the
/// earliest: its head left.
pub fn next_in_group(
  tx: &Connection,
  queue: &str,
  group: &str,
  now: i64,
) -> Result<()> {
  tx.prepare_cached(NEXT_IN_GROUP)?
    .execute(params![queue, group, now])?;
  Ok(())
}

/// Adds `n` to a counter at once (outside the engine's turns).
pub fn count(
  tx: &Connection,
  queue: &str,
  counter: Counter,
  n: i64,
) -> Result<()> {
  tx.prepare_cached(COUNT)?
    .execute(params![queue, counter.name(), n])?;
  Ok(())
}

/// Leases up to `max` ready messages of `queue` due at `now` until
/// `deadline`, oldest first.
pub fn claim(
  tx: &Connection,
  queue: &Arc<str>,
  now: i64,
  deadline: i64,
  max: usize,
) -> Result<Vec<Claimed>> {
  let rows = tx
    .prepare_cached(NEXT_READY)?
    .query_map(params![&**queue, now, max as i64], |r| {
      let id: String = r.get(0)?;
      let group: String = r.get(4)?;
      let seq: i64 = r.get(5)?;
      Ok(Claimed {
        lease: LeaseKey {
          deadline,
          id: lease_id(&id, &group, seq),
          queue: Some(queue.clone()),
        },
        payload: r.get(1)?,
        named: Some(NamedMeta {
          id,
          attempts: r.get(2)?,
          enqueued_at: r.get(3)?,
          group: (!group.is_empty()).then_some((group, seq)),
        }),
      })
    })?
    .collect::<Result<Vec<_>, _>>()?;
  let mut lease = tx.prepare_cached(LEASE)?;
  for c in &rows {
    let (q, group, seq, id) = row_of(&c.lease);
    lease.execute(params![deadline, q, group, seq, id])?;
  }
  Ok(rows)
}

/// The earliest due time of a ready message of `queue`.
pub fn earliest(conn: &Connection, queue: &str) -> Result<Option<i64>> {
  Ok(
    conn
      .prepare_cached(EARLIEST)?
      .query_row([queue], |r| r.get(0))?,
  )
}

/// Separates the parts of a grouped message's lease id.
const SEP: char = '\u{1}';

/// The lease id of a message's row: its id alone without a group; with
/// one, the id, the sequence number and the group, joined by U+0001 (ids
/// are hex, so the first two split unambiguously).
pub fn lease_id(id: &str, group: &str, seq: i64) -> String {
  if group.is_empty() {
    id.to_string()
  } else {
    format!("{id}{SEP}{seq}{SEP}{group}")
  }
}

/// The row a lease names: queue, group (`""`: none), sequence number (0:
/// none), id.
fn row_of(lease: &LeaseKey) -> (&str, &str, i64, &str) {
  let queue = lease.queue.as_deref().unwrap_or_default();
  let mut parts = lease.id.splitn(3, SEP);
  let id = parts.next().unwrap_or_default();
  match (parts.next(), parts.next()) {
    (Some(seq), Some(group)) => {
      (queue, group, seq.parse().unwrap_or_default(), id)
    }
    _ => (queue, "", 0, id),
  }
}

/// Runs `sql` on the row `lease` names, still under that lease: its
/// parameters are `first`, then the row's queue, group, sequence number and
/// id, then the lease's end. How many rows it changed (0: not ours).
fn on_lease(
  tx: &Connection,
  sql: &str,
  first: &[&dyn rusqlite::ToSql],
  lease: &LeaseKey,
) -> Result<usize> {
  let (queue, group, seq, id) = row_of(lease);
  let row: [&dyn rusqlite::ToSql; 5] =
    [&queue, &group, &seq, &id, &lease.deadline];
  let all: Vec<&dyn rusqlite::ToSql> =
    first.iter().copied().chain(row).collect();
  Ok(tx.prepare_cached(sql)?.execute(all.as_slice())?)
}

/// Extends one named lease; whether it was still ours.
pub fn renew(tx: &Connection, lease: &LeaseKey, deadline: i64) -> Result<bool> {
  Ok(on_lease(tx, RENEW, &[&deadline], lease)? == 1)
}

/// A handled message: gone, its group moved on.
pub fn acknowledge(
  tx: &Connection,
  lease: &LeaseKey,
  now: i64,
  counters: &mut Counters,
) -> Result<bool> {
  let done = leave(tx, lease, now)?;
  if done {
    if let Some(q) = &lease.queue {
      counters.add(q, Counter::Acked, 1);
    }
  }
  Ok(done)
}

/// Deletes a running message and moves its group on; false when the
/// lease was no longer ours.
fn leave(tx: &Connection, lease: &LeaseKey, now: i64) -> Result<bool> {
  let n = on_lease(tx, DONE, &[], lease)?;
  let (queue, group, _, _) = row_of(lease);
  if n == 1 && !group.is_empty() {
    next_in_group(tx, queue, group, now)?;
  }
  Ok(n == 1)
}

/// A message whose handler never ran: ready again now, uncounted.
pub fn release(tx: &Connection, lease: &LeaseKey, now: i64) -> Result<bool> {
  Ok(on_lease(tx, RELEASE, &[&now], lease)? == 1)
}

/// A listener's verdict on a failed attempt.
pub fn settle(
  tx: &Connection,
  lease: &LeaseKey,
  verdict: &Verdict,
  now: i64,
  counters: &mut Counters,
) -> Result<Failed> {
  let Some(queue) = &lease.queue else {
    return Ok(Failed::Gone);
  };
  match verdict {
    Verdict::Retry { at, error } => {
      let n = on_lease(tx, RETRY, &[at, error], lease)?;
      if n == 0 {
        return Ok(Failed::Gone);
      }
      counters.add(queue, Counter::Retried, 1);
      Ok(Failed::Requeued)
    }
    Verdict::Dead { error } => bury(tx, lease, error, now, counters),
  }
}

/// Moves a running message to the dead letters with `error`, and its
/// group on.
fn bury(
  tx: &Connection,
  lease: &LeaseKey,
  error: &str,
  now: i64,
  counters: &mut Counters,
) -> Result<Failed> {
  let n = on_lease(tx, TO_DEAD, &[&error, &now], lease)?;
  if n == 0 || !leave(tx, lease, now)? {
    return Ok(Failed::Gone);
  }
  if let Some(q) = &lease.queue {
    counters.add(q, Counter::Dead, 1);
  }
  Ok(Failed::Undelivered(Vec::new()))
}

/// A lapsed lease (its listener's process died or stalled): a failed
/// attempt, retried at once, or a dead letter past `max_attempts`.
pub fn fail_lapsed(
  tx: &Connection,
  lease: &LeaseKey,
  now: i64,
  counters: &mut Counters,
) -> Result<Failed> {
  let (queue, group, seq, id) = row_of(lease);
  let row = tx
    .prepare_cached(RUNNING_ROW)?
    .query_row(params![queue, group, seq, id, lease.deadline], |r| {
      Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
    })
    .optional()?;
  let Some((attempts, max_attempts)) = row else {
    return Ok(Failed::Gone);
  };
  let verdict = if attempts + 1 >= max_attempts {
    Verdict::Dead {
      error: LAPSED.into(),
    }
  } else {
    Verdict::Retry {
      at: now,
      error: LAPSED.into(),
    }
  };
  settle(tx, lease, &verdict, now, counters)
}

/// Named leases that lapsed by `now`, a page at a time.
pub fn lapsed(conn: &Connection, now: i64) -> Result<Vec<LeaseKey>> {
  let mut stmt = conn.prepare_cached(LAPSED_LEASES)?;
  let rows = stmt.query_map([now], |r| {
    let group: String = r.get(1)?;
    let id: String = r.get(3)?;
    Ok(LeaseKey {
      queue: Some(Arc::from(r.get::<_, String>(0)?)),
      id: lease_id(&id, &group, r.get(2)?),
      deadline: r.get(4)?,
    })
  })?;
  Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
