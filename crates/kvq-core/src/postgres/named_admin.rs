//! The management API of named queues on Postgres ([`NamedAdmin`]):
//! counts, peek, dead letters, cancel, redrive, purge, totals, the list of
//! queues. Asked between the engine's turns, on a pooled connection:
//! reads of more than one statement share one snapshot; each change is a
//! transaction of its own, taking the same locks as the engine's turns
//! (postgres/named.rs): a cancel its message's group, a purge or a
//! redrive the whole queue (one lock, however many groups).
//!
//! A change that may make a message ready notifies every store, this one
//! included (its payload is not the store's own): a listener of this
//! process waiting on the queue must look again too.

use deadpool_postgres::ClientWrapper;
use tokio_postgres::Row;

use super::named;
use super::named::Ctx;
use super::named::NamedBuffer;
use super::named::NamedSql;
use super::named::NewRows;
use super::pipeline;
use super::pipeline::Param;
use super::pipeline::Stmt;
use crate::engine::NamedAdmin;
use crate::engine::NamedAnswer;
use crate::engine::NamedRow;
use crate::error::Error;
use crate::error::Result;

/// Why an answer failed: the database (the caller describes it with the
/// store's place), or anything else.
pub enum Failure {
  /// The server refused a statement or the connection failed.
  Pg(tokio_postgres::Error),
  /// A row was not what kvq wrote.
  Other(Error),
}

impl From<tokio_postgres::Error> for Failure {
  fn from(e: tokio_postgres::Error) -> Self {
    Failure::Pg(e)
  }
}

impl From<Error> for Failure {
  fn from(e: Error) -> Self {
    Failure::Other(e)
  }
}

/// The columns a [`NamedRow`] is read from, in [`row`]'s order.
const ROW: &str = "id, due, enqueued_at, attempts, grp, seq, last_error, data";
const DEAD_ROW: &str =
  "id, failed_at, enqueued_at, attempts, grp, seq, last_error, data";

/// Answers `what` at `now`. `ctx`: where a change notifies (its payload
/// other than this store's own, see the module comment).
pub async fn answer(
  client: &ClientWrapper,
  sql: &NamedSql,
  what: &NamedAdmin,
  now: i64,
  ctx: &Ctx,
) -> std::result::Result<NamedAnswer, Failure> {
  let s = &sql.s;
  match what {
    NamedAdmin::Counts(q) => {
      let counts = format!(
        "select count(*) filter (where state = 0 and due <= $2::bigint), \
         count(*) filter (where state = 0 and due > $2::bigint), \
         count(*) filter (where state = 1), count(*) filter (where state = 2) \
         from {s}.named where queue = $1::text"
      );
      let dead =
        format!("select count(*) from {s}.named_dead where queue = $1::text");
      let rows = snapshot(
        client,
        vec![
          Stmt::new(&counts, vec![text(q), Box::new(now)]),
          Stmt::new(&dead, vec![text(q)]),
        ],
      )
      .await?;
      let mut out = [0u64; 5];
      for (i, slot) in out.iter_mut().take(4).enumerate() {
        *slot = count(first_row(&rows, 0)?, i)?;
      }
      out[4] = count(first_row(&rows, 1)?, 0)?;
      Ok(NamedAnswer::Counts(out))
    }
    NamedAdmin::Peek(q, limit) => {
      let limit = i64::try_from(*limit).unwrap_or(i64::MAX);
      // Ready and delayed by due time, then those waiting behind a head;
      // the second asks for as many, the first's fill counted after.
      let ready = format!(
        "select {ROW} from {s}.named where queue = $1::text and state = 0 \
         order by due, id limit $2::bigint"
      );
      // Groups in byte order, as on SQLite (not the database's
      // collation).
      let waiting = format!(
        "select {ROW} from {s}.named where queue = $1::text and state = 1 \
         order by grp collate \"C\", seq limit $2::bigint"
      );
      let rows = snapshot(
        client,
        vec![
          Stmt::new(&ready, vec![text(q), Box::new(limit)]),
          Stmt::new(&waiting, vec![text(q), Box::new(limit)]),
        ],
      )
      .await?;
      let mut out = Vec::new();
      for r in rows.first().into_iter().flatten() {
        let state = |due: i64| if due <= now { "ready" } else { "delayed" };
        out.push(row(r, state)?);
      }
      for r in rows.get(1).into_iter().flatten() {
        out.push(row(r, |_| "waiting")?);
      }
      out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
      Ok(NamedAnswer::Messages(out))
    }
    NamedAdmin::DeadLetters(q, limit) => {
      let limit = i64::try_from(*limit).unwrap_or(i64::MAX);
      let dead = format!(
        "select {DEAD_ROW} from {s}.named_dead where queue = $1::text \
         order by id limit $2::bigint"
      );
      let stmt = Stmt::new(&dead, vec![text(q), Box::new(limit)]);
      let rows = pipeline::run(client, &[stmt]).await?;
      let mut out = Vec::new();
      for r in rows.first().into_iter().flatten() {
        out.push(row(r, |_| "dead")?);
      }
      Ok(NamedAnswer::Messages(out))
    }
    NamedAdmin::Totals(q) => {
      let counters = format!(
        "select name, sum(value)::bigint from {s}.named_counters \
         where queue = $1::text group by name"
      );
      let oldest = format!(
        "select min(due) from {s}.named \
         where queue = $1::text and state = 0 and due <= $2::bigint"
      );
      let rows = snapshot(
        client,
        vec![
          Stmt::new(&counters, vec![text(q)]),
          Stmt::new(&oldest, vec![text(q), Box::new(now)]),
        ],
      )
      .await?;
      let mut totals = [0i64; 4];
      for r in rows.first().into_iter().flatten() {
        let name: String = r.try_get(0).map_err(named::column)?;
        let value: i64 = r.try_get(1).map_err(named::column)?;
        let slot = match name.as_str() {
          "enqueued" => 0,
          "acked" => 1,
          "retried" => 2,
          "dead" => 3,
          _ => continue,
        };
        totals[slot] = value;
      }
      let oldest = match first_row(&rows, 1)? {
        Some(r) => r.try_get::<_, Option<i64>>(0).map_err(named::column)?,
        None => None,
      };
      Ok(NamedAnswer::Totals(totals, oldest))
    }
    NamedAdmin::Queues => {
      // `named` may hold millions of rows: its distinct queues are found
      // by walking its primary key one queue at a time. Sorted in byte
      // order, as on SQLite.
      let queues = format!(
        "with recursive walk(queue) as ( \
           (select queue from {s}.named order by queue limit 1) \
           union all \
           select (select n.queue from {s}.named n where n.queue > walk.queue \
                   order by n.queue limit 1) \
           from walk where walk.queue is not null \
         ) \
         select queue from ( \
           select queue from walk where queue is not null \
           union select queue from {s}.named_dead \
           union select queue from {s}.named_counters \
         ) q order by queue collate \"C\""
      );
      let rows = snapshot(client, vec![Stmt::new(&queues, Vec::new())]).await?;
      let mut names = Vec::new();
      for r in rows.first().into_iter().flatten() {
        names.push(r.try_get(0).map_err(named::column)?);
      }
      Ok(NamedAnswer::Queues(names))
    }
    NamedAdmin::Cancel(q, id) => {
      let mut locks = NamedBuffer::default();
      locks.lock_group_of(q, id);
      let mut stmts = locks.drain(sql, ctx);
      // Nothing is counted: no stripe.
      let params: Vec<Param> = vec![
        text(q),
        text(id),
        Box::new(ctx.channel.clone()),
        Box::new(ctx.me.clone()),
        Box::new(now),
      ];
      stmts.push(Stmt::new(&sql.cancel, params));
      let rows = transaction(client, stmts).await?;
      let gone = count(rows.last().and_then(|r| r.first()), 0)?;
      Ok(NamedAnswer::Changed(gone))
    }
    NamedAdmin::Purge(q, dead) => {
      let mut locks = NamedBuffer::default();
      locks.lock_queue(q);
      let mut stmts = locks.drain(sql, ctx);
      let purge = format!(
        "with gone as (delete from {s}.named \
           where queue = $1::text and state in (0, 1) returning 1) \
         select count(*) from gone"
      );
      stmts.push(Stmt::new(&purge, vec![text(q)]));
      if *dead {
        let purge_dead = format!(
          "with gone as (delete from {s}.named_dead where queue = $1::text \
             returning 1) \
           select count(*) from gone"
        );
        stmts.push(Stmt::new(&purge_dead, vec![text(q)]));
      }
      let counted = if *dead { 2 } else { 1 };
      let rows = transaction(client, stmts).await?;
      let mut n = 0;
      for r in rows.iter().rev().take(counted) {
        n += count(r.first(), 0)?;
      }
      Ok(NamedAnswer::Changed(n))
    }
    NamedAdmin::Redrive(q, ids) => redrive(client, sql, q, ids, now, ctx).await,
    NamedAdmin::DedupOf(q, dedup_id) => {
      let params: Vec<Param> = vec![text(q), text(dedup_id), Box::new(now)];
      let stmt = Stmt::new(&sql.dedup_of, params);
      let rows = pipeline::run(client, &[stmt]).await?;
      let id = match rows.first().and_then(|r| r.first()) {
        Some(r) => Some(r.try_get(0).map_err(named::column)?),
        None => None,
      };
      Ok(NamedAnswer::Dedup(id))
    }
  }
}

/// Dead letters back into their queue under their ids, attempts from
/// zero, due now, at the end of their groups: in the order of `ids`, or
/// by id for all.
async fn redrive(
  client: &ClientWrapper,
  sql: &NamedSql,
  queue: &str,
  ids: &Option<Vec<String>>,
  now: i64,
  ctx: &Ctx,
) -> std::result::Result<NamedAnswer, Failure> {
  let s = &sql.s;
  client.batch_execute("begin").await?;
  let done = async {
    let mut locks = NamedBuffer::default();
    locks.lock_queue(queue);
    let mut stmts = locks.drain(sql, ctx);
    let take = format!(
      "delete from {s}.named_dead \
       where queue = $1::text and ($2::text[] is null or id = any($2::text[])) \
       returning id, grp, max_attempts, enqueued_at, data"
    );
    stmts.push(Stmt::new(&take, vec![text(queue), Box::new(ids.clone())]));
    let rows = pipeline::run(client, &stmts).await?;
    let mut taken = Vec::new();
    for r in rows.last().into_iter().flatten() {
      let id: String = r.try_get(0).map_err(named::column)?;
      let group: Option<String> = r.try_get(1).map_err(named::column)?;
      let max_attempts: i32 = r.try_get(2).map_err(named::column)?;
      let enqueued_at: i64 = r.try_get(3).map_err(named::column)?;
      let data: Vec<u8> = r.try_get(4).map_err(named::column)?;
      taken.push((id, group, max_attempts, enqueued_at, data));
    }
    match ids {
      Some(order) => {
        taken.sort_by_key(|t| order.iter().position(|id| *id == t.0))
      }
      None => taken.sort_by(|a, b| a.0.cmp(&b.0)),
    }
    let n = taken.len() as u64;
    let mut stmts = Vec::new();
    if n > 0 {
      let mut rows = NewRows::default();
      for (id, group, max_attempts, enqueued_at, data) in taken {
        let max_attempts = u32::try_from(max_attempts).unwrap_or(0);
        rows.push(
          queue,
          &id,
          now,
          group.as_deref(),
          max_attempts,
          enqueued_at,
          data,
        );
      }
      stmts.push(rows.into_stmt(sql, ctx.stripe));
      let notify: Vec<Param> =
        vec![Box::new(ctx.channel.clone()), Box::new(ctx.me.clone())];
      stmts.push(Stmt::new("select pg_notify($1::text, $2::text)", notify));
    }
    stmts.push(Stmt::simple("commit"));
    pipeline::run(client, &stmts).await?;
    Ok(NamedAnswer::Changed(n))
  }
  .await;
  if done.is_err() {
    let _ = client.batch_execute("rollback").await;
  }
  done
}

/// Runs read statements in one snapshot when there are several; their
/// rows.
async fn snapshot(
  client: &ClientWrapper,
  stmts: Vec<Stmt>,
) -> std::result::Result<Vec<Vec<Row>>, Failure> {
  if stmts.len() == 1 {
    return Ok(pipeline::run(client, &stmts).await?);
  }
  let mut all = Vec::with_capacity(stmts.len() + 2);
  all.push(Stmt::simple(
    "begin isolation level repeatable read read only",
  ));
  all.extend(stmts);
  all.push(Stmt::simple("commit"));
  let mut rows = pipeline::run(client, &all).await?;
  rows.pop();
  rows.remove(0);
  Ok(rows)
}

/// Runs statements in a transaction of their own, in one round trip; the
/// rows of each, without BEGIN's and COMMIT's. A failed statement makes
/// the COMMIT that follows it a rollback.
async fn transaction(
  client: &ClientWrapper,
  stmts: Vec<Stmt>,
) -> std::result::Result<Vec<Vec<Row>>, Failure> {
  let mut all = Vec::with_capacity(stmts.len() + 2);
  all.push(Stmt::simple("begin"));
  all.extend(stmts);
  all.push(Stmt::simple("commit"));
  let mut rows = pipeline::run(client, &all).await?;
  rows.pop();
  rows.remove(0);
  Ok(rows)
}

fn text(s: &str) -> Param {
  Box::new(s.to_string())
}

/// The first row of statement `i`'s rows, if any.
fn first_row(rows: &[Vec<Row>], i: usize) -> Result<Option<&Row>> {
  Ok(rows.get(i).and_then(|r| r.first()))
}

/// A `count(*)` in column `at` (none: 0).
fn count(row: Option<&Row>, at: usize) -> Result<u64> {
  let Some(row) = row else {
    return Ok(0);
  };
  let n: i64 = row.try_get(at).map_err(named::column)?;
  Ok(u64::try_from(n).unwrap_or(0))
}

/// A message or dead letter (columns [`ROW`] or [`DEAD_ROW`]), its state
/// named from its due time.
fn row(r: &Row, state: impl Fn(i64) -> &'static str) -> Result<NamedRow> {
  let due: i64 = r.try_get(1).map_err(named::column)?;
  let attempts: i32 = r.try_get(3).map_err(named::column)?;
  Ok(NamedRow {
    id: r.try_get(0).map_err(named::column)?,
    state: state(due),
    due,
    enqueued_at: r.try_get(2).map_err(named::column)?,
    attempts: i64::from(attempts),
    group: named::group_of(r, 4)?,
    last_error: r.try_get(6).map_err(named::column)?,
    payload: r.try_get(7).map_err(named::column)?,
  })
}
