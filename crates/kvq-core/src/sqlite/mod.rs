//! The SQLite backend: Deno's own file format, one machine.
//!
//! [`SqliteBackend`] maps the engine's jobs onto a writer connection
//! (`kv.rs` for the KV tables, `queue.rs` for the queue tables);
//! [`SqliteReader`] answers reads on the caller's thread through a second
//! connection. A turn is one `begin immediate` ... `commit`; each atomic
//! write and each failed attempt runs under a savepoint of its own, so it
//! commits or fails alone inside the shared transaction.

mod connection;
mod ids;
mod inspect;
mod kv;
mod named;
mod named_admin;
mod queue;
mod schema;

use std::sync::Mutex;

use denokv_proto::AtomicWrite;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use rusqlite::Connection;

pub use connection::OPEN_LOCK_WAIT;
pub use queue::CLAIM_MARK;
pub use queue::DEFAULT_BACKOFF_SCHEDULE;
pub use queue::FOREIGN_CLAIM_GRACE_MS;

use crate::engine::Applied;
use crate::engine::Backend;
use crate::engine::Claimed;
use crate::engine::DirectReader;
use crate::engine::Durability;
use crate::engine::Enqueued;
use crate::engine::Failed;
use crate::engine::LeaseKey;
use crate::engine::NamedApplied;
use crate::engine::NamedCommitted;
use crate::engine::NamedWrite;
use crate::engine::Verdict;
use crate::error::Error;
use crate::error::Result;

/// A database file (or a private in-memory database) behind the engine.
pub struct SqliteBackend {
  conn: Option<Connection>,
  durability: Durability,
  /// Whether the connection currently syncs on commit.
  synchronous: bool,
  /// The file could only be opened for reading: every write fails with
  /// Deno's message and no queue work is done, as in Deno.
  readonly: bool,
  /// Whether named queues' tables are known to exist (named.rs).
  named_tables: bool,
  /// Named queues' counter increments of the open turn.
  counters: named::Counters,
}

/// Opens `path` (`None`: a private in-memory database): the backend, and
/// for a file a reader for the caller's thread. Creates and migrates the
/// file; waits at most [`OPEN_LOCK_WAIT`] for another process's lock.
pub fn open(
  path: Option<&str>,
  durability: Durability,
) -> Result<(SqliteBackend, Option<SqliteReader>)> {
  let opened = connection::open(path, durability)?;
  let reader = match path {
    Some(p) => Some(SqliteReader {
      conn: Mutex::new(Some(connection::open_reader(p)?)),
    }),
    None => None,
  };
  let backend = SqliteBackend {
    conn: Some(opened.conn),
    durability,
    synchronous: durability == Durability::Full,
    readonly: opened.readonly,
    named_tables: false,
    counters: named::Counters::default(),
  };
  Ok((backend, reader))
}

impl SqliteBackend {
  fn conn(&self) -> Result<&Connection> {
    self.conn.as_ref().ok_or(Error::Closed)
  }

  /// Switches between a synced and an unsynced commit for the next
  /// transaction (a no-op under relaxed durability).
  fn set_synchronous(&mut self, synced: bool) -> Result<()> {
    if self.durability == Durability::Relaxed || synced == self.synchronous {
      return Ok(());
    }
    let level = if synced { "full" } else { "normal" };
    self.conn()?.pragma_update(None, "synchronous", level)?;
    self.synchronous = synced;
    Ok(())
  }

  /// Whether named queues' tables exist; a file without them has no named
  /// message (another process may create them at any time). Tables of a
  /// development build's layout count as none here, so that claims and
  /// the sweep of the anonymous queue go on; writes and the management
  /// calls say why they are refused (named::check_layout).
  fn has_named_tables(&mut self) -> Result<bool> {
    if !self.named_tables {
      let conn = self.conn()?;
      self.named_tables = named::tables_exist(conn)? && named::layout_ok(conn)?;
    }
    Ok(self.named_tables)
  }

  /// Creates named queues' tables if missing (inside a turn).
  fn ensure_named_tables(&mut self) -> Result<()> {
    if !self.named_tables {
      named::create_tables(self.conn()?)?;
      self.named_tables = true;
    }
    Ok(())
  }

  /// Runs `f` under a savepoint: kept if it succeeds, undone if it fails
  /// with anything but a SQLite error (which fails the whole turn).
  fn savepoint<T>(
    &mut self,
    f: impl FnOnce(&Connection) -> Result<T>,
  ) -> Result<T> {
    let conn = self.conn()?;
    conn.execute_batch("savepoint w")?;
    match f(conn) {
      Ok(v) => {
        conn.execute_batch("release w")?;
        Ok(v)
      }
      Err(e) => {
        conn.execute_batch("rollback to w; release w")?;
        Err(e)
      }
    }
  }
}

impl Backend for SqliteBackend {
  fn read(
    &mut self,
    reads: &[&[ReadRange]],
    now: i64,
  ) -> Result<Vec<Result<Vec<ReadRangeOutput>>>> {
    let conn = self.conn()?;
    conn.execute_batch("begin deferred")?;
    let out = reads
      .iter()
      .map(|ranges| kv::snapshot_read(conn, ranges, now))
      .collect();
    conn.execute_batch("commit")?;
    Ok(out)
  }

  fn begin(&mut self, synced: bool) -> Result<()> {
    if self.readonly {
      return Ok(());
    }
    self.set_synchronous(synced)?;
    self.conn()?.execute_batch("begin immediate")?;
    Ok(())
  }

  fn commit(&mut self) -> Result<()> {
    if self.readonly {
      return Ok(());
    }
    let conn = self.conn.as_ref().ok_or(Error::Closed)?;
    self.counters.flush(conn)?;
    conn.execute_batch("commit")?;
    Ok(())
  }

  fn rollback(&mut self) {
    self.counters.clear();
    // A rolled-back turn may have been the one that created the tables.
    self.named_tables = false;
    if let Some(conn) = &self.conn {
      if !conn.is_autocommit() {
        let _ = conn.execute_batch("rollback");
      }
    }
  }

  fn write(&mut self, write: &AtomicWrite, now: i64) -> Result<Applied> {
    if self.readonly {
      return Err(Error::ReadOnly);
    }
    self.savepoint(|conn| kv::apply_atomic(conn, write, now))
  }

  fn claim(
    &mut self,
    now: i64,
    deadline: i64,
    max: usize,
  ) -> Result<Vec<Claimed>> {
    if self.readonly {
      return Ok(Vec::new());
    }
    queue::claim(self.conn()?, now, deadline, max)
  }

  fn renew(&mut self, leases: &[LeaseKey], deadline: i64) -> Result<Vec<bool>> {
    let conn = self.conn()?;
    let (named, anonymous): (Vec<_>, Vec<_>) = leases
      .iter()
      .enumerate()
      .partition(|(_, l)| l.queue.is_some());
    let mut out = vec![false; leases.len()];
    let anonymous_leases: Vec<LeaseKey> =
      anonymous.iter().map(|(_, l)| (*l).clone()).collect();
    let renewed = queue::renew(conn, &anonymous_leases, deadline)?;
    for ((i, _), ok) in anonymous.iter().zip(renewed) {
      out[*i] = ok;
    }
    for (i, lease) in named {
      out[i] = named::renew(conn, lease, deadline)?;
    }
    Ok(out)
  }

  fn acknowledge(&mut self, lease: &LeaseKey) -> Result<bool> {
    let conn = self.conn.as_ref().ok_or(Error::Closed)?;
    match lease.queue {
      None => queue::acknowledge(conn, lease),
      Some(_) => {
        let now = chrono::Utc::now().timestamp_millis();
        named::acknowledge(conn, lease, now, &mut self.counters)
      }
    }
  }

  fn release(&mut self, lease: &LeaseKey, now: i64) -> Result<bool> {
    match lease.queue {
      None => queue::release(self.conn()?, lease, now),
      Some(_) => named::release(self.conn()?, lease, now),
    }
  }

  fn fail(&mut self, lease: &LeaseKey, now: i64) -> Result<Failed> {
    if lease.queue.is_some() {
      let conn = self.conn.as_ref().ok_or(Error::Closed)?;
      return named::fail_lapsed(conn, lease, now, &mut self.counters);
    }
    self.savepoint(|conn| queue::fail(conn, lease, now))
  }

  fn write_named(
    &mut self,
    write: &NamedWrite,
    now: i64,
  ) -> Result<NamedApplied> {
    if self.readonly {
      return Err(Error::ReadOnly);
    }
    self.ensure_named_tables()?;
    let mut counters = named::Counters::default();
    let applied = self.savepoint(|conn| {
      let mut out = NamedApplied::default();
      let versionstamp = match &write.atomic {
        Some(atomic) => {
          out.applied = kv::apply_atomic(conn, atomic, now)?;
          match out.applied.versionstamp {
            Some(vs) => vs,
            None => return Ok(out),
          }
        }
        None => crate::encoding::versionstamp(kv::bump_version(
          conn,
          crate::encoding::version_step(),
        )?),
      };
      let mut enqueued = Vec::with_capacity(write.enqueues.len());
      for e in &write.enqueues {
        let (outcome, ready) =
          named::enqueue(conn, e, &versionstamp, now, &mut counters)?;
        if e.unique && outcome != Enqueued::Added {
          // Undo the write as a failed check does (see NamedEnqueue).
          return Err(Error::DuplicateAtCommit);
        }
        if ready && !out.woken.contains(&e.queue) {
          out.woken.push(e.queue.clone());
        }
        enqueued.push(outcome);
      }
      out.committed = Some(NamedCommitted {
        versionstamp,
        enqueued,
      });
      Ok(out)
    });
    let applied = match applied {
      Err(Error::DuplicateAtCommit) => return Ok(NamedApplied::default()),
      other => other?,
    };
    // Counted only once the write's savepoint held.
    for ((queue, counter), n) in counters.drain() {
      self.counters.add(&queue, counter, n);
    }
    Ok(applied)
  }

  fn has_named_queues(&self) -> bool {
    true
  }

  fn claim_named(
    &mut self,
    queue: &str,
    now: i64,
    deadline: i64,
    max: usize,
  ) -> Result<Vec<Claimed>> {
    if self.readonly || !self.has_named_tables()? {
      return Ok(Vec::new());
    }
    named::claim(
      self.conn()?,
      &std::sync::Arc::from(queue),
      now,
      deadline,
      max,
    )
  }

  fn earliest_named(&mut self, queue: &str) -> Result<Option<i64>> {
    if self.readonly || !self.has_named_tables()? {
      return Ok(None);
    }
    named::earliest(self.conn()?, queue)
  }

  fn named_admin(
    &mut self,
    what: &crate::engine::NamedAdmin,
    now: i64,
  ) -> Result<crate::engine::NamedAnswer> {
    if self.readonly {
      if let crate::engine::NamedAdmin::Cancel(..)
      | crate::engine::NamedAdmin::Redrive(..)
      | crate::engine::NamedAdmin::Purge(..) = what
      {
        return Err(Error::ReadOnly);
      }
    }
    let exists = self.has_named_tables()?;
    let conn = self.conn()?;
    if !exists && named::tables_exist(conn)? {
      named::check_layout(conn)?;
    }
    named_admin::answer(conn, exists, what, now)
  }

  fn settle_named(
    &mut self,
    lease: &LeaseKey,
    verdict: &Verdict,
    now: i64,
  ) -> Result<Failed> {
    let conn = self.conn.as_ref().ok_or(Error::Closed)?;
    named::settle(conn, lease, verdict, now, &mut self.counters)
  }

  fn collect_expired(&mut self, now: i64) -> Result<Vec<Vec<u8>>> {
    if self.readonly {
      return Ok(Vec::new());
    }
    kv::collect_expired(self.conn()?, now)
  }

  fn lapsed(&mut self, now: i64) -> Result<Vec<LeaseKey>> {
    if self.readonly {
      return Ok(Vec::new());
    }
    let mut lapsed = queue::lapsed(self.conn()?, now)?;
    if self.has_named_tables()? {
      lapsed.extend(named::lapsed(self.conn()?, now)?);
    }
    Ok(lapsed)
  }

  fn earliest_ready(&mut self) -> Result<Option<i64>> {
    if self.readonly {
      return Ok(None);
    }
    queue::earliest_ready(self.conn()?)
  }

  fn earliest_expiry(&mut self) -> Result<Option<i64>> {
    if self.readonly {
      return Ok(None);
    }
    kv::earliest_expiration(self.conn()?)
  }

  fn expiries(&mut self, keys: &[Vec<u8>]) -> Result<Option<Vec<Option<i64>>>> {
    inspect::expiries(self.conn()?, keys).map(Some)
  }

  fn pending(
    &mut self,
    cursor: Option<&str>,
    limit: usize,
  ) -> Result<Option<crate::engine::PendingPage>> {
    inspect::pending(self.conn()?, cursor, limit).map(Some)
  }

  fn change_token(&mut self) -> Result<i64> {
    kv::data_version(self.conn()?)
  }

  fn is_busy(&self, error: &Error) -> bool {
    connection::is_busy(error)
  }

  fn close(&mut self) -> Result<()> {
    self.rollback();
    let Some(conn) = self.conn.take() else {
      return Ok(());
    };
    // The last connection to close checkpoints the WAL into the file and
    // removes it, as Deno leaves a file it closed.
    conn.close().map_err(|(_, e)| Error::Sqlite(e))
  }
}

/// Reads on the caller's thread, through a second connection to the file.
pub struct SqliteReader {
  conn: Mutex<Option<Connection>>,
}

impl DirectReader for SqliteReader {
  fn read_now(
    &self,
    ranges: &[ReadRange],
    now: i64,
  ) -> Option<Result<Vec<ReadRangeOutput>>> {
    let mut guard = self.conn.lock().unwrap_or_else(|p| p.into_inner());
    let Some(conn) = guard.as_mut() else {
      return Some(Err(Error::Closed));
    };
    let result = (|| {
      // One statement is its own snapshot; more need a transaction.
      if ranges.len() == 1 {
        return kv::snapshot_read(conn, ranges, now);
      }
      let tx = conn.transaction()?;
      let out = kv::snapshot_read(&tx, ranges, now)?;
      tx.commit()?;
      Ok(out)
    })();
    match result {
      Err(e) if connection::is_busy(&e) => None,
      other => Some(other),
    }
  }

  fn close(&self) {
    let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner()).take();
    drop(conn);
  }
}
