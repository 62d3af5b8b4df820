//! The seam between the engine and its storage.
//!
//! The engine (worker.rs) decides *when*: which requests share a
//! transaction, when leases are renewed, when lapsed leases are swept,
//! when expired keys go, when to look for other processes' commits. A
//! [`Backend`] decides *how*: it maps each of those jobs onto its storage,
//! one method per job, and nothing else. SQLite (crate::sqlite) is the
//! first; denokv_proto's `Database` trait is the model, widened for kvq's
//! leases and batches.
//!
//! A backend is synchronous and owned by the engine's one worker thread;
//! the engine calls the methods that change anything only between
//! [`Backend::begin`] and [`Backend::commit`] (or [`Backend::rollback`]),
//! so one turn of work is one transaction however many jobs it holds.

use std::sync::Arc;

use denokv_proto::AtomicWrite;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use denokv_proto::Versionstamp;

use super::inspect::PendingPage;
use super::named::NamedAdmin;
use super::named::NamedAnswer;
use super::named::NamedApplied;
use super::named::NamedMeta;
use super::named::NamedWrite;
use super::named::Verdict;
use crate::error::Error;
use crate::error::Result;

/// Where a leased message lives, as the backend identifies it: the lease's
/// end, the message id, and the named queue it belongs to (`None`: Deno's
/// anonymous queue).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LeaseKey {
  /// The lease's end, in epoch milliseconds.
  pub deadline: i64,
  /// The backend's row id for the running message.
  pub id: String,
  /// The named queue, or `None` for the anonymous one.
  pub queue: Option<Arc<str>>,
}

impl LeaseKey {
  /// A lease on a message of the anonymous queue.
  pub fn anonymous(deadline: i64, id: String) -> LeaseKey {
    LeaseKey {
      deadline,
      id,
      queue: None,
    }
  }
}

/// A message claimed under a lease.
#[derive(Debug)]
pub struct Claimed {
  /// Its lease.
  pub lease: LeaseKey,
  /// The V8 payload.
  pub payload: Vec<u8>,
  /// A named message's metadata (`None` for the anonymous queue).
  pub named: Option<NamedMeta>,
}

/// What one applied atomic write did.
#[derive(Debug, Default)]
pub struct Applied {
  /// The commit's versionstamp, or `None` when a check failed (nothing
  /// was written).
  pub versionstamp: Option<Versionstamp>,
  /// The keys it wrote, for watchers.
  pub changed_keys: Vec<Vec<u8>>,
  /// The earliest due time of the messages it enqueued.
  pub earliest_enqueue: Option<i64>,
  /// The earliest expiry it set.
  pub earliest_expiry: Option<i64>,
}

/// What became of a failed attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Failed {
  /// Back among the ready messages, due after its next backoff interval.
  Requeued,
  /// Out of retries: written to these dead-letter keys (maybe none).
  Undelivered(Vec<Vec<u8>>),
  /// The message could not be read (its retry schedule or dead-letter keys
  /// are not what Deno writes): moved aside where an operator can see it
  /// (docs/api.md, "Unreadable queue messages"), never deleted.
  SetAside,
  /// The lease was no longer this process's.
  Gone,
}

/// When a resolved write is on disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
  /// Every commit is fsynced before its promise resolves (as in Deno).
  #[default]
  Full,
  /// Commits reach the OS at once and the disk at the next checkpoint; a
  /// power cut may lose the last writes, a process crash loses nothing.
  Relaxed,
}

/// One database's storage. See the module comment for who calls what.
pub trait Backend: Send {
  /// Answers snapshot reads, each from one consistent snapshot; an entry
  /// expired at `now` is never returned. The outer error fails them all.
  fn read(
    &mut self,
    reads: &[&[ReadRange]],
    now: i64,
  ) -> Result<Vec<Result<Vec<ReadRangeOutput>>>>;

  /// Starts the write transaction of one turn, taking the write lock.
  /// `synced`: the commit must be durable before it returns (a user's
  /// write rides in it); otherwise it may be lazily synced.
  fn begin(&mut self, synced: bool) -> Result<()>;
  /// Commits the turn's transaction.
  fn commit(&mut self) -> Result<()>;
  /// Abandons the turn's transaction (after an error); never fails.
  fn rollback(&mut self);

  /// Applies one atomic write, all or nothing: a check that fails writes
  /// nothing (`versionstamp: None`), a mutation that fails (`Err`) undoes
  /// the whole write and nothing else in the turn.
  fn write(&mut self, write: &AtomicWrite, now: i64) -> Result<Applied>;
  /// Applies a turn's atomic writes, each as [`Backend::write`] does, and
  /// returns their outcomes in order. An `Err` outcome undid that write
  /// alone; the outer error (a failure of the storage itself, see
  /// `Error::fails_turn`) fails the whole turn. The default applies them
  /// one after another inside the turn's transaction (SQLite, Postgres); a
  /// backend whose writes are independent commits ordered by a server
  /// (KV Connect) may send them at once, as long as a later write of the
  /// same key still lands after an earlier one.
  fn write_batch(
    &mut self,
    writes: &[&AtomicWrite],
    now: i64,
  ) -> Result<Vec<Result<Applied>>> {
    write_each(self, writes, now)
  }
  /// Leases up to `max` messages due at `now`, oldest first then in
  /// enqueue order, until `deadline`.
  fn claim(
    &mut self,
    now: i64,
    deadline: i64,
    max: usize,
  ) -> Result<Vec<Claimed>>;
  /// Extends leases to `deadline`; per lease, whether it was still ours.
  fn renew(&mut self, leases: &[LeaseKey], deadline: i64) -> Result<Vec<bool>>;
  /// A handled message: gone. False when the lease was no longer ours.
  fn acknowledge(&mut self, lease: &LeaseKey) -> Result<bool>;
  /// A message whose handler never ran: ready again at `now`, its attempt
  /// not counted. False when the lease was no longer ours.
  fn release(&mut self, lease: &LeaseKey, now: i64) -> Result<bool>;
  /// A failed attempt (a handler's failure or a lapsed lease): retried
  /// along its backoff schedule, or dead-lettered.
  fn fail(&mut self, lease: &LeaseKey, now: i64) -> Result<Failed>;
  /// Deletes every entry expired at `now`; returns their keys.
  fn collect_expired(&mut self, now: i64) -> Result<Vec<Vec<u8>>>;

  /// Stores named-queue messages (engine/named.rs), inside the user's
  /// atomic write when they ride in one: all or nothing with it. The
  /// leases of named messages go through [`Backend::renew`],
  /// [`Backend::acknowledge`], [`Backend::release`], [`Backend::fail`]
  /// (a lapsed lease) and [`Backend::lapsed`] like the anonymous queue's,
  /// told apart by [`LeaseKey::queue`]. The default: no named queues of
  /// its own (KV Connect, where they are stored as keys).
  fn write_named(
    &mut self,
    write: &NamedWrite,
    now: i64,
  ) -> Result<NamedApplied> {
    let _ = (write, now);
    Err(no_named_queues())
  }
  /// Whether this storage keeps named queues of its own (the methods
  /// below); false: the default, KV Connect, where they are keys.
  fn has_named_queues(&self) -> bool {
    false
  }
  /// Leases up to `max` messages of named queue `queue` due at `now`
  /// (group heads only), oldest first, until `deadline`.
  fn claim_named(
    &mut self,
    queue: &str,
    now: i64,
    deadline: i64,
    max: usize,
  ) -> Result<Vec<Claimed>> {
    let _ = (queue, now, deadline, max);
    Err(no_named_queues())
  }
  /// The earliest due time of a ready message of named queue `queue`.
  fn earliest_named(&mut self, queue: &str) -> Result<Option<i64>> {
    let _ = queue;
    Err(no_named_queues())
  }
  /// Answers the management API of named queues (engine/named.rs,
  /// [`NamedAdmin`]), outside any turn: a change runs in a transaction
  /// of its own.
  fn named_admin(
    &mut self,
    what: &NamedAdmin,
    now: i64,
  ) -> Result<NamedAnswer> {
    let _ = (what, now);
    Err(no_named_queues())
  }
  /// Records a listener's verdict on a failed attempt of a named message.
  fn settle_named(
    &mut self,
    lease: &LeaseKey,
    verdict: &Verdict,
    now: i64,
  ) -> Result<Failed> {
    let _ = (lease, verdict, now);
    Err(no_named_queues())
  }

  /// Leases that lapsed by `now` and may be taken back: any process's
  /// dead kvq lease, or a foreign (Deno) claim once Deno itself would
  /// have taken it back. A page at a time. Outside a transaction.
  fn lapsed(&mut self, now: i64) -> Result<Vec<LeaseKey>>;
  /// The earliest due time of a ready message, if any.
  fn earliest_ready(&mut self) -> Result<Option<i64>>;
  /// The earliest expiry time stored, if any.
  fn earliest_expiry(&mut self) -> Result<Option<i64>>;
  /// A number that changes whenever another process commits: the cheap
  /// signal that makes the engine look again (SQLite's data_version).
  fn change_token(&mut self) -> Result<i64>;
  /// The keys this store's watchers watch now, one sorted set per distinct
  /// watch (each within the watch limit), handed over whenever that
  /// changes: after a watch begins or ends, with an empty list once none
  /// is left. A backend that must ask to be told of other processes'
  /// writes (KV Connect's watch streams) follows exactly these; one that
  /// learns of every commit anyway (SQLite, Postgres) ignores them.
  fn watch_keys(&mut self, key_sets: &[Vec<Vec<u8>>]) {
    let _ = key_sets;
  }
  /// Hands the backend a way to wake the engine at once, from any thread,
  /// when it is told (rather than finds by polling) that another process
  /// committed: Postgres's LISTEN. Called once, before the first turn; a
  /// backend that only polls ignores it.
  fn set_wake(&mut self, wake: Box<dyn Fn() + Send + Sync>) {
    drop(wake);
  }
  /// Whether [`Backend::write_batch`] may commit the writes itself, at
  /// once, before the turn's other jobs (Postgres sends writes that need
  /// nothing from the database with their commit, in one round trip). The
  /// engine then gives a turn with writes nothing else to do, so that no
  /// later job's failure can reach writes already stored: they would be
  /// answered as failed, and a retry would store them twice.
  fn commits_writes_alone(&self) -> bool {
    false
  }
  /// Whether a claim that finds nothing costs no more than
  /// [`Backend::earliest_ready`] and makes no other process wait: then,
  /// when another process's commit is seen, the engine claims at once
  /// rather than asking first whether anything is due. Postgres: yes (one
  /// statement either way, rows taken with SKIP LOCKED). SQLite: no (a
  /// claim takes the file's write lock).
  fn claims_cheaply(&self) -> bool {
    false
  }
  /// Messages of the anonymous queue another process leased to this
  /// store for a listener that no longer waits here (Postgres's
  /// hand-off, postgres/queue.rs), taken from the backend: the engine
  /// releases them at once, their attempt not counted. The default:
  /// nothing is ever handed over.
  fn unwanted_handoffs(&mut self) -> Vec<LeaseKey> {
    Vec::new()
  }
  /// kvq's own, for moving data (engine/inspect.rs): each key's expiry
  /// in epoch ms (`None`: none, or no such key). `Ok(None)`: this storage
  /// cannot tell (the default; KV Connect).
  fn expiries(&mut self, keys: &[Vec<u8>]) -> Result<Option<Vec<Option<i64>>>> {
    let _ = keys;
    Ok(None)
  }
  /// kvq's own, for moving data (engine/inspect.rs): a page of up to
  /// `limit` queue messages not yet handled, after `cursor`. `Ok(None)`:
  /// no queue of its own (the default; KV Connect).
  fn pending(
    &mut self,
    cursor: Option<&str>,
    limit: usize,
  ) -> Result<Option<PendingPage>> {
    let _ = (cursor, limit);
    Ok(None)
  }
  /// Whether the error means another process holds the write lock and the
  /// same work may simply be tried again.
  fn is_busy(&self, error: &crate::Error) -> bool;
  /// Releases the storage: after it returns, everything committed is in
  /// the database's files and nothing of this process holds them.
  fn close(&mut self) -> Result<()>;
}

/// The error of a backend without named queues of its own.
pub fn no_named_queues() -> Error {
  Error::Unsupported(
    "this store keeps named queues as keys, not in the engine".into(),
  )
}

/// Applies `writes` one after another with [`Backend::write`], inside the
/// turn's transaction: what [`Backend::write_batch`] does by default, for
/// backends that override it and fall back to it.
pub fn write_each<B: Backend + ?Sized>(
  backend: &mut B,
  writes: &[&AtomicWrite],
  now: i64,
) -> Result<Vec<Result<Applied>>> {
  let mut applied = Vec::with_capacity(writes.len());
  for write in writes {
    match backend.write(write, now) {
      Err(e) if e.fails_turn() => return Err(e),
      outcome => applied.push(outcome),
    }
  }
  Ok(applied)
}

/// Reads answered on the caller's own thread, for backends that can do so
/// without waiting (SQLite's second connection): a read takes microseconds,
/// far less than two thread hops.
pub trait DirectReader: Send + Sync {
  /// Answers a snapshot read now; `None` means "ask the worker instead"
  /// (the reader met a lock).
  fn read_now(
    &self,
    ranges: &[ReadRange],
    now: i64,
  ) -> Option<Result<Vec<ReadRangeOutput>>>;
  /// Closes the reader; later reads answer [`crate::Error::Closed`].
  fn close(&self);
}
