//! Named queues' SQL (engine/named.rs), in kvq's own tables beside Deno's.
//!
//! `kvq_named` holds every message not yet done, one row each, keyed by
//! queue and id. Ids begin with their enqueue time, so rows sit in the
//! order they were sent, which is roughly the order a drain takes them:
//! a turn's claims and acknowledgements touch a few neighbouring pages,
//! also when the messages belong to a thousand different groups. A row's
//! `state` says where it is: 0 ready (due at `due`), 1 waiting behind the
//! head of its ordering group, 2 running (its lease ends at `due`), 3
//! cancelled while waiting (dropped when its turn comes).
//!
//! An ordering group is a list: each message names the next one of its
//! group (`next`), and `kvq_named_groups` holds the group's last message
//! and sequence number, for the next enqueue to append to. Only a group's
//! head is ever ready or running; when it leaves, the same transaction
//! makes the one it names ready. A group-major index would serve the same
//! purpose, but every acknowledgement would then write one of its pages
//! at random: with many groups, that doubled the pages a drain writes.
//!
//! A move between states is an update of that row, so a payload is
//! written once. Dead letters move to `kvq_named_dead`, dedup windows live
//! in `kvq_named_dedup`, and `kvq_named_counters` counts what happened per
//! queue (for rates). The tables are created with the first named enqueue
//! or claim, so a file that never used a named queue stays as Deno left
//! it; Deno ignores them.

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
use crate::error::Error;
use crate::error::Result;

/// The tables, created when first needed (see the module comment).
pub const CREATE_TABLES: &str = "
create table if not exists kvq_named (
  queue text not null,
  id text not null,
  grp text not null,
  seq integer not null,
  next text,
  state integer not null,
  due integer not null,
  attempts integer not null,
  max_attempts integer not null,
  enqueued_at integer not null,
  last_error text,
  data blob not null,
  primary key (queue, id)
) without rowid;
create index if not exists kvq_named_ready on kvq_named (queue, due, id)
  where state = 0;
create index if not exists kvq_named_leases on kvq_named (due)
  where state = 2;
create table if not exists kvq_named_groups (
  queue text not null,
  grp text not null,
  tail text not null,
  tail_seq integer not null,
  primary key (queue, grp)
) without rowid;
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

const GROUP_TAIL: &str = "select tail, tail_seq from kvq_named_groups \
  where queue = ? and grp = ?";
const LINK: &str =
  "update kvq_named set next = ?3 where queue = ?1 and id = ?2";
const SET_TAIL: &str = "insert into kvq_named_groups \
  (queue, grp, tail, tail_seq) values (?, ?, ?, ?) \
  on conflict (queue, grp) do update \
  set tail = excluded.tail, tail_seq = excluded.tail_seq";
const GROUP_GONE: &str =
  "delete from kvq_named_groups where queue = ? and grp = ?";
const DEDUP_GET: &str = "select id, until, versionstamp from kvq_named_dedup \
  where queue = ? and dedup_id = ?";
const DEDUP_PUT: &str = "insert or replace into kvq_named_dedup \
  (queue, dedup_id, id, until, versionstamp) values (?, ?, ?, ?, ?)";
const DEDUP_EXPIRE: &str = "delete from kvq_named_dedup where until <= ?";
const NEXT_READY: &str = "select id, data, attempts, enqueued_at, grp, seq \
  from kvq_named where queue = ? and state = 0 and due <= ? \
  order by due, id limit ?";
const LEASE: &str =
  "update kvq_named set state = 2, due = ? where queue = ? and id = ?";
const EARLIEST: &str =
  "select min(due) from kvq_named where queue = ? and state = 0";
const RENEW: &str = "update kvq_named set due = ? \
  where queue = ? and id = ? and state = 2 and due = ?";
const DONE: &str = "delete from kvq_named \
  where queue = ? and id = ? and state = 2 and due = ? returning grp, next";
const RELEASE: &str = "update kvq_named set state = 0, due = ? \
  where queue = ? and id = ? and state = 2 and due = ?";
const RETRY: &str = "update kvq_named \
  set state = 0, due = ?, attempts = attempts + 1, last_error = ? \
  where queue = ? and id = ? and state = 2 and due = ?";
const RUNNING_ROW: &str = "select attempts, max_attempts from kvq_named \
  where queue = ? and id = ? and state = 2 and due = ?";
const TO_DEAD: &str = "insert or replace into kvq_named_dead \
  (queue, id, grp, seq, attempts, max_attempts, enqueued_at, last_error, \
  failed_at, data) \
  select queue, id, nullif(grp, ''), nullif(seq, 0), attempts + 1, \
  max_attempts, enqueued_at, ?, ?, data from kvq_named \
  where queue = ? and id = ? and state = 2 and due = ?";
// The next message takes its place in the line of ready messages from
// now (never earlier): a group with a long backlog must not go ahead of
// every other group's head, whose due times are older.
const PROMOTE: &str = "update kvq_named set state = 0, due = max(due, ?3) \
  where queue = ?1 and id = ?2 and state = 1";
const DROP_CANCELLED: &str = "delete from kvq_named \
  where queue = ? and id = ? and state = 3 returning next";
const LAPSED_LEASES: &str = "select queue, id, due from kvq_named \
  where state = 2 and due <= ? order by due limit 256";
const COUNT: &str = "insert into kvq_named_counters (queue, name, value) \
  values (?, ?, ?) on conflict (queue, name) do update \
  set value = value + excluded.value";
const HAS_NEXT: &str =
  "select count(*) > 0 from pragma_table_info('kvq_named') \
  where name = 'next'";
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

/// Whether existing tables have this module's layout (see
/// [`check_layout`]).
pub fn layout_ok(conn: &Connection) -> Result<bool> {
  Ok(conn.query_row(HAS_NEXT, [], |r| r.get(0))?)
}

/// Creates the tables if missing (inside the turn's transaction). Tables
/// of another layout are refused first, before anything is added beside
/// them: a refused write leaves the file as it was.
pub fn create_tables(tx: &Connection) -> Result<()> {
  if tables_exist(tx)? {
    check_layout(tx)?;
  }
  tx.execute_batch(CREATE_TABLES)?;
  Ok(())
}

/// Refuses `kvq_named` tables of the layout a development build wrote
/// before 0.1.0 (keyed by group, no `next`), which `create table if not
/// exists` leaves as they are: every statement here would fail on them
/// with SQLite's own "no such column".
pub fn check_layout(conn: &Connection) -> Result<()> {
  if layout_ok(conn)? {
    return Ok(());
  }
  Err(Error::Unsupported(
    "named queues: this file's kvq_named table was made by a development \
     build of kvq before 0.1.0 and has another layout; drain its named \
     queues with that build, or drop the kvq_named tables"
      .into(),
  ))
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
      let tail = tx
        .prepare_cached(GROUP_TAIL)?
        .query_row(params![queue, group], |r| {
          Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })
        .optional()?;
      // A tail that is not there (never, while the tables are kept by
      // this module) starts the group afresh rather than leave the new
      // message waiting for a head that will never leave.
      let linked = match &tail {
        Some((last, _)) => {
          tx.prepare_cached(LINK)?.execute(params![queue, last, id])? == 1
        }
        None => false,
      };
      let at = match tail {
        Some((_, last_seq)) if linked => (WAITING, last_seq + 1),
        _ => (READY, 1),
      };
      tx.prepare_cached(SET_TAIL)?
        .execute(params![queue, group, id, at.1])?;
      at
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

/// A group's head left: makes `next`, the message it named, ready at
/// `now` at the earliest, dropping cancelled messages on the way; with
/// none left, the group is gone.
pub fn promote(
  tx: &Connection,
  queue: &str,
  group: &str,
  mut next: Option<String>,
  now: i64,
) -> Result<()> {
  while let Some(id) = next {
    if tx
      .prepare_cached(PROMOTE)?
      .execute(params![queue, id, now])?
      == 1
    {
      return Ok(());
    }
    next = tx
      .prepare_cached(DROP_CANCELLED)?
      .query_row(params![queue, id], |r| r.get(0))
      .optional()?
      .flatten();
  }
  tx.prepare_cached(GROUP_GONE)?
    .execute(params![queue, group])?;
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
          id: id.clone(),
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
    lease.execute(params![deadline, &**queue, c.lease.id])?;
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

/// The parameters of a statement on the row `lease` names, still under
/// that lease: `first`, then the row's queue and id (a named lease's id
/// is its message's), then the lease's end.
fn lease_params<'a>(
  first: &[&'a dyn rusqlite::ToSql],
  queue: &'a &'a str,
  lease: &'a LeaseKey,
) -> Vec<&'a dyn rusqlite::ToSql> {
  let row: [&dyn rusqlite::ToSql; 3] = [queue, &lease.id, &lease.deadline];
  first.iter().copied().chain(row).collect()
}

/// Runs `sql` on the row `lease` names (see [`lease_params`]); how many
/// rows it changed (0: the lease is no longer ours).
fn on_lease(
  tx: &Connection,
  sql: &str,
  first: &[&dyn rusqlite::ToSql],
  lease: &LeaseKey,
) -> Result<usize> {
  let queue = lease.queue.as_deref().unwrap_or_default();
  let all = lease_params(first, &queue, lease);
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
  let queue = lease.queue.as_deref().unwrap_or_default();
  let all = lease_params(&[], &queue, lease);
  let gone = tx
    .prepare_cached(DONE)?
    .query_row(all.as_slice(), |r| {
      Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
    })
    .optional()?;
  let Some((group, next)) = gone else {
    return Ok(false);
  };
  if !group.is_empty() {
    promote(tx, queue, &group, next, now)?;
  }
  Ok(true)
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
  let queue = lease.queue.as_deref().unwrap_or_default();
  let row = tx
    .prepare_cached(RUNNING_ROW)?
    .query_row(lease_params(&[], &queue, lease).as_slice(), |r| {
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
    Ok(LeaseKey {
      queue: Some(Arc::from(r.get::<_, String>(0)?)),
      id: r.get(1)?,
      deadline: r.get(2)?,
    })
  })?;
  Ok(rows.collect::<Result<Vec<_>, _>>()?)
}
