//! The one thread that owns a database's connection.
//!
//! Each turn of its loop takes every request waiting at that moment and
//! answers them together: reads in one read transaction, then all writes,
//! acknowledgements and claims in ONE write transaction and one fsync (group
//! commit). Each atomic write runs under its own savepoint, so it still
//! commits or fails on its own. Queue deadlines, lease renewal, the sweep
//! of lapsed leases, expiry, and the check for other processes' commits are
//! deadlines in the same loop.

use std::collections::HashMap;
use std::collections::HashSet;
use std::collections::VecDeque;
use std::sync::mpsc::Receiver;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use denokv_proto::AtomicWrite;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use denokv_proto::Versionstamp;
use rusqlite::Connection;
use rusqlite::Transaction;
use rusqlite::TransactionBehavior;

use super::backend;
use super::backend::Durability;
use super::queue;
use super::queue::Failed;
use super::queue::LeaseKey;
use super::reply::Reply;
use super::Shared;
use crate::error::Error;
use crate::error::Result;

/// How often, while anyone listens or watches, the worker asks SQLite
/// whether another connection committed. `pragma data_version` reads shared
/// memory, so this costs microseconds and bounds cross-process latency.
const CROSS_PROCESS_POLL: Duration = Duration::from_millis(5);
/// Without listeners or watchers, expiry and lease sweeps still run at
/// least this often, and catch other processes' changes.
const IDLE_TICK: Duration = Duration::from_secs(1);
/// The most requests folded into one transaction.
const MAX_BATCH: usize = 4096;
/// The longest pause after failed transactions before trying again.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// What a listener reports for a message it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
  /// The handler threw or rejected: retry along the schedule, or
  /// dead-letter.
  Failed,
  /// The handler succeeded: the message is gone.
  Handled,
  /// The handler never ran (the listener stopped): back to the queue now,
  /// the attempt not counted.
  Released,
}

/// A message handed to a listener.
#[derive(Debug)]
pub struct QueueMessage {
  /// Identifies the lease when the message is finished.
  pub token: u64,
  /// The V8 payload.
  pub payload: Vec<u8>,
}

/// Handler outcomes from one listener, with the reply to send once stored.
type FinishRequest = (Vec<(u64, Outcome)>, Reply<()>);

/// A request to the worker.
pub enum Request {
  /// A snapshot read.
  Read(Vec<ReadRange>, Reply<Vec<ReadRangeOutput>>),
  /// An atomic write; `None` in the reply means a check failed.
  Write(AtomicWrite, Reply<Option<Versionstamp>>),
  /// Several atomic writes, sure to share one transaction.
  Writes(Vec<(AtomicWrite, Reply<Option<Versionstamp>>)>),
  /// Wait for up to `max` messages for a listener (0: anonymous); an
  /// empty reply means closed or cancelled.
  Dequeue(u64, usize, Reply<Vec<QueueMessage>>),
  /// Answer the listener's waiting dequeue with nothing (it stopped).
  CancelDequeue(u64),
  /// Results of handled messages, by token.
  Finish(Vec<(u64, Outcome)>, Reply<()>),
  /// Look again at what needs doing (a watcher was added).
  Wake,
  /// Stop: answer what is queued with `Closed` and end the thread.
  Close,
}

impl Request {
  /// Answers a request the worker will never run: reads, writes and
  /// finishes fail with `Closed`, a dequeue gets no messages.
  pub(super) fn refuse(self) {
    match self {
      Request::Read(_, r) => drop(r.send(Err(Error::Closed))),
      Request::Write(_, r) => drop(r.send(Err(Error::Closed))),
      Request::Writes(w) => {
        for (_, r) in w {
          let _ = r.send(Err(Error::Closed));
        }
      }
      Request::Dequeue(_, _, r) => drop(r.send(Ok(Vec::new()))),
      Request::Finish(_, r) => drop(r.send(Err(Error::Closed))),
      Request::Wake | Request::CancelDequeue(_) | Request::Close => {}
    }
  }
}

/// Lease settings.
#[derive(Clone, Copy, Debug)]
pub struct LeaseConfig {
  /// How long a claim lasts without renewal.
  pub lease: Duration,
}

impl LeaseConfig {
  fn renew_every(&self) -> Duration {
    self.lease / 3
  }
  fn sweep_every(&self) -> Duration {
    (self.lease / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
  }
}

struct Waiter {
  listener: u64,
  max: usize,
  reply: Reply<Vec<QueueMessage>>,
}

pub(super) struct Worker {
  conn: Connection,
  rx: Receiver<Request>,
  shared: Arc<Shared>,
  lease: LeaseConfig,
  durability: Durability,
  /// Whether the connection currently syncs on commit.
  synchronous: bool,
  waiters: VecDeque<Waiter>,
  running: HashMap<u64, LeaseKey>,
  /// Claimed for a listener that was gone when they were handed out.
  orphaned: Vec<LeaseKey>,
  next_token: u64,
  /// Earliest ready message; `Some(i64::MIN)` means "look again".
  next_ready: Option<i64>,
  next_expiry: Option<i64>,
  data_version: i64,
  next_renew: Instant,
  next_sweep: Instant,
  next_poll: Instant,
  /// Failed write transactions in a row, and when to try again.
  failures: u32,
  paused_until: Instant,
}

fn now_ms() -> i64 {
  chrono::Utc::now().timestamp_millis()
}

fn instant_at(ms: i64) -> Instant {
  let delta = ms.saturating_sub(now_ms()).max(0) as u64;
  Instant::now() + Duration::from_millis(delta)
}

/// The work gathered from one turn of the loop.
#[derive(Default)]
struct Batch {
  reads: Vec<(Vec<ReadRange>, Reply<Vec<ReadRangeOutput>>)>,
  writes: Vec<(AtomicWrite, Reply<Option<Versionstamp>>)>,
  finishes: Vec<FinishRequest>,
  close: bool,
}

impl Batch {
  /// Whether a caller is waiting for this turn's answer, and so likely
  /// to send another request soon.
  fn answers_callers(&self) -> bool {
    !self.reads.is_empty()
      || !self.writes.is_empty()
      || !self.finishes.is_empty()
  }
}

impl Worker {
  pub(super) fn new(
    conn: Connection,
    rx: Receiver<Request>,
    shared: Arc<Shared>,
    lease: LeaseConfig,
    durability: Durability,
  ) -> Result<Worker> {
    let data_version = backend::data_version(&conn)?;
    let now = Instant::now();
    Ok(Worker {
      conn,
      rx,
      shared,
      lease,
      durability,
      synchronous: durability == Durability::Full,
      waiters: VecDeque::new(),
      running: HashMap::new(),
      orphaned: Vec::new(),
      next_token: 1,
      next_ready: Some(i64::MIN),
      next_expiry: Some(i64::MIN),
      data_version,
      next_renew: now + lease.renew_every(),
      next_sweep: now,
      next_poll: now,
      failures: 0,
      paused_until: now,
    })
  }

  /// Runs until closed or until every handle is dropped.
  pub(super) fn run(mut self) {
    let mut answered = false;
    loop {
      let mut batch = Batch::default();
      let wake = self.next_wake();
      // A caller just answered usually sends again soon: see `linger`.
      match crate::linger::recv(&self.rx, answered, Some(wake)) {
        Ok(req) => self.take(req, &mut batch),
        Err(RecvTimeoutError::Timeout) => {}
        Err(RecvTimeoutError::Disconnected) => batch.close = true,
      }
      let mut n = 1;
      while !batch.close && n < MAX_BATCH {
        match self.rx.try_recv() {
          Ok(req) => self.take(req, &mut batch),
          Err(_) => break,
        }
        n += 1;
      }
      answered = batch.answers_callers();
      let close = batch.close;
      if close {
        // Closing: listeners get nothing more, so the last turn claims no
        // message that no handler would run.
        for waiter in self.waiters.drain(..) {
          let _ = waiter.reply.send(Ok(Vec::new()));
        }
      }
      self.turn(batch);
      if close {
        break;
      }
    }
    self.shutdown();
  }

  fn take(&mut self, req: Request, batch: &mut Batch) {
    match req {
      Request::Read(r, reply) => batch.reads.push((r, reply)),
      Request::Write(w, reply) => batch.writes.push((w, reply)),
      Request::Writes(mut w) => batch.writes.append(&mut w),
      Request::Finish(f, reply) => batch.finishes.push((f, reply)),
      Request::Dequeue(listener, max, reply) => {
        self.waiters.push_back(Waiter {
          listener,
          max,
          reply,
        })
      }
      Request::CancelDequeue(listener) => {
        // Answer before any claim of this turn can reach it, so a stopped
        // listener never takes a message it will not run.
        let (gone, kept) = std::mem::take(&mut self.waiters)
          .into_iter()
          .partition(|w| w.listener == listener && listener != 0);
        self.waiters = kept;
        for w in gone {
          let _ = w.reply.send(Ok(Vec::new()));
        }
      }
      Request::Wake => {}
      Request::Close => batch.close = true,
    }
  }

  fn listening(&self) -> bool {
    !self.waiters.is_empty() || !self.shared.watches.is_empty()
  }

  fn next_wake(&self) -> Instant {
    let mut at = Instant::now() + IDLE_TICK;
    if self.failures > 0 {
      // Only a new request wakes the worker before the pause is over.
      return at.max(self.paused_until);
    }
    if self.listening() {
      at = at.min(self.next_poll);
    }
    if !self.waiters.is_empty() {
      if let Some(ts) = self.next_ready {
        at = at.min(instant_at(ts));
      }
    }
    if let Some(ts) = self.next_expiry {
      at = at.min(instant_at(ts));
    }
    if !self.running.is_empty() {
      at = at.min(self.next_renew);
    }
    at.min(self.next_sweep)
  }

  fn turn(&mut self, batch: Batch) {
    let now = now_ms();
    if !batch.reads.is_empty() {
      self.answer_reads(batch.reads, now);
    }
    self.poll_other_processes();
    match self.write_turn(batch.writes, batch.finishes, now) {
      Ok(()) => self.failures = 0,
      Err(e) => {
        // The replies already carry the error. Look at the queue again
        // rather than trust state, and back off (up to a second) so a full
        // or read-only disk does not make this loop spin.
        self.next_ready = Some(i64::MIN);
        self.failures = (self.failures + 1).min(10);
        let pause = Duration::from_millis(1 << self.failures).min(MAX_PAUSE);
        self.paused_until = Instant::now() + pause;
        log_error("write transaction", &e);
      }
    }
  }

  fn answer_reads(
    &mut self,
    reads: Vec<(Vec<ReadRange>, Reply<Vec<ReadRangeOutput>>)>,
    now: i64,
  ) {
    let result = backend::retry_busy(|| {
      let tx = self
        .conn
        .transaction_with_behavior(TransactionBehavior::Deferred)?;
      let out: Vec<Result<Vec<ReadRangeOutput>>> = reads
        .iter()
        .map(|(ranges, _)| backend::snapshot_read(&tx, ranges, now))
        .collect();
      tx.commit()?;
      Ok(out)
    });
    match result {
      Ok(outs) => {
        for ((_, reply), out) in reads.into_iter().zip(outs) {
          let _ = reply.send(out);
        }
      }
      Err(e) => {
        let message = e.to_string();
        for (_, reply) in reads {
          let _ = reply.send(Err(Error::Storage(message.clone())));
        }
      }
    }
  }

  /// Notices commits by other connections to the same file.
  fn poll_other_processes(&mut self) {
    self.next_poll = Instant::now() + CROSS_PROCESS_POLL;
    match backend::data_version(&self.conn) {
      Ok(v) if v != self.data_version => {
        self.data_version = v;
        self.next_ready = Some(i64::MIN);
        self.next_expiry = Some(i64::MIN);
        self.shared.watches.all_changed();
      }
      Ok(_) => {}
      Err(e) => log_error("data_version", &e),
    }
  }

  fn write_turn(
    &mut self,
    writes: Vec<(AtomicWrite, Reply<Option<Versionstamp>>)>,
    finishes: Vec<FinishRequest>,
    now: i64,
  ) -> Result<()> {
    let t = Instant::now();
    if self.next_ready == Some(i64::MIN) {
      self.next_ready = queue::earliest_ready(&self.conn)?;
    }
    if self.next_expiry == Some(i64::MIN) {
      self.next_expiry = backend::earliest_expiration(&self.conn)?;
    }
    let renew = !self.running.is_empty() && t >= self.next_renew;
    let sweep = t >= self.next_sweep;
    let expire = self.next_expiry.is_some_and(|ts| ts <= now);
    // A caller that stopped waiting (its dequeue future was dropped) must
    // not be handed messages: they would sit leased to nobody, then come
    // back as a failed attempt, or be dropped with no retries left.
    self.waiters.retain(|w| !w.reply.is_closed());
    let waiting = !self.waiters.is_empty();
    let ready = self.next_ready.is_some_and(|ts| ts <= now);
    let lapsed: Vec<LeaseKey> = if sweep {
      self.next_sweep = t + self.lease.sweep_every();
      let mine: HashSet<&LeaseKey> = self.running.values().collect();
      queue::lapsed(&self.conn, now)?
        .into_iter()
        .filter(|l| !mine.contains(l))
        .collect()
    } else {
      Vec::new()
    };
    let orphaned = std::mem::take(&mut self.orphaned);
    let busy = !writes.is_empty()
      || !finishes.is_empty()
      || !lapsed.is_empty()
      || !orphaned.is_empty();
    if !(busy || renew || expire || (waiting && ready)) {
      return Ok(());
    }

    // Only a user's write needs to be on disk before its promise resolves.
    // Claims, acknowledgements, renewals and sweeps ride along unsynced: the
    // next synced commit carries them, and losing them to a power cut only
    // means a message is delivered again (at-least-once).
    self.set_synchronous(!writes.is_empty() || expire)?;

    let lease_ms = self.lease.lease.as_millis() as i64;
    let max_claim: usize = self.waiters.iter().map(|w| w.max).sum();
    let running = &self.running;
    let conn = &mut self.conn;
    let mut out = TurnOutput::default();
    let result = backend::retry_busy(|| {
      out = TurnOutput::default();
      let tx =
        conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
      // The clock is read again once the write lock is held: waiting for
      // another process's lock must not age the leases we are about to
      // write, or that process's sweep would take them back at once.
      let now = now_ms();
      apply_writes(&tx, &writes, &mut out, now)?;
      apply_finishes(&tx, running, &finishes, &mut out, now)?;
      for lease in &lapsed {
        record_failure(&tx, lease, now, &mut out)?;
      }
      for lease in &orphaned {
        queue::release(&tx, lease, now)?;
        out.touched_queue = true;
      }
      if expire {
        out.changed_keys.extend(backend::collect_expired(&tx, now)?);
        out.expiry_collected = true;
      }
      if renew {
        let (tokens, leases): (Vec<u64>, Vec<LeaseKey>) =
          running.iter().map(|(t, l)| (*t, l.clone())).unzip();
        let kept = queue::renew(&tx, &leases, now + lease_ms)?;
        out.renewed =
          Some((now + lease_ms, tokens.into_iter().zip(kept).collect()));
      }
      // Claim in the same transaction as the enqueue that made a message
      // due, so a waiting listener gets it without another commit.
      let due = ready || out.earliest_enqueue.is_some_and(|ts| ts <= now);
      if waiting && due {
        out.claimed = queue::claim(&tx, now, now + lease_ms, max_claim)?;
        out.touched_queue = true;
      }
      if out.touched_queue {
        out.next_ready = queue::earliest_ready(&tx)?;
      }
      if out.expiry_collected || out.earliest_expiry.is_some() {
        out.next_expiry = backend::earliest_expiration(&tx)?;
      }
      tx.commit()?;
      Ok(())
    });
    self.shared.stats.transaction(self.synchronous);
    if let Err(e) = result {
      self.orphaned.extend(orphaned);
      let message = e.to_string();
      for (_, reply) in writes {
        let _ = reply.send(Err(Error::Storage(message.clone())));
      }
      for (_, reply) in finishes {
        let _ = reply.send(Err(Error::Storage(message.clone())));
      }
      return Err(e);
    }
    self.after_commit(writes, finishes, out, renew, t);
    Ok(())
  }

  /// Switches between a synced and an unsynced commit for the next
  /// transaction (a no-op under relaxed durability).
  fn set_synchronous(&mut self, synced: bool) -> Result<()> {
    if self.durability == Durability::Relaxed || synced == self.synchronous {
      return Ok(());
    }
    let level = if synced { "full" } else { "normal" };
    self.conn.pragma_update(None, "synchronous", level)?;
    self.synchronous = synced;
    Ok(())
  }

  fn after_commit(
    &mut self,
    writes: Vec<(AtomicWrite, Reply<Option<Versionstamp>>)>,
    finishes: Vec<FinishRequest>,
    mut out: TurnOutput,
    renewed: bool,
    t: Instant,
  ) {
    let committed = out
      .write_results
      .iter()
      .filter(|r| matches!(r, Ok(Some(_))))
      .count();
    self.shared.stats.commits(committed as u64);
    // Messages first: a listener's handler is what waits on this turn
    // (a binding that delivers replies one at a time, as Deno FFI does,
    // would otherwise start it a round trip after the enqueue's answer).
    self.hand_out(std::mem::take(&mut out.claimed));
    for ((_, reply), result) in writes.into_iter().zip(out.write_results) {
      let _ = reply.send(result);
    }
    for token in &out.finished {
      self.running.remove(token);
    }
    for (_, reply) in finishes {
      let _ = reply.send(Ok(()));
    }
    if renewed {
      self.next_renew = t + self.lease.renew_every();
      if let Some((deadline, kept)) = out.renewed {
        for (token, still_ours) in kept {
          if still_ours {
            if let Some(l) = self.running.get_mut(&token) {
              l.deadline = deadline;
            }
          } else {
            self.running.remove(&token);
          }
        }
      }
    }
    if out.touched_queue {
      self.next_ready = out.next_ready;
    }
    if out.expiry_collected || out.earliest_expiry.is_some() {
      self.next_expiry = out.next_expiry;
    }
    self.shared.watches.keys_changed(&out.changed_keys);
  }

  fn hand_out(&mut self, claimed: Vec<queue::Claimed>) {
    self.shared.stats.claimed(claimed.len() as u64);
    let mut claimed = claimed.into_iter();
    while claimed.len() > 0 {
      let Some(waiter) = self.waiters.pop_front() else {
        break;
      };
      let mut batch = Vec::with_capacity(waiter.max.min(claimed.len()));
      for c in claimed.by_ref().take(waiter.max) {
        let token = self.next_token;
        self.next_token += 1;
        self.running.insert(token, c.lease);
        batch.push(QueueMessage {
          token,
          payload: c.payload,
        });
      }
      if let Err(Ok(batch)) = waiter.reply.send(Ok(batch)) {
        // The listener went away before it got them: the next turn gives
        // them back to the queue, their attempt not counted.
        for m in batch {
          if let Some(lease) = self.running.remove(&m.token) {
            self.orphaned.push(lease);
          }
        }
      }
    }
  }

  fn shutdown(&mut self) {
    for waiter in self.waiters.drain(..) {
      let _ = waiter.reply.send(Ok(Vec::new()));
    }
    while let Ok(req) = self.rx.try_recv() {
      req.refuse();
    }
    self.shared.watches.close();
  }
}

fn apply_writes(
  tx: &Transaction,
  writes: &[(AtomicWrite, Reply<Option<Versionstamp>>)],
  out: &mut TurnOutput,
  now: i64,
) -> Result<()> {
  for (write, _) in writes {
    tx.execute_batch("savepoint w")?;
    let mut keys = Vec::new();
    match backend::apply_atomic(tx, write, &mut keys, now) {
      Ok(applied) => {
        tx.execute_batch("release w")?;
        if applied.versionstamp.is_some() {
          out.changed_keys.append(&mut keys);
          if let Some(ts) = applied.earliest_enqueue {
            out.touched_queue = true;
            out.earliest_enqueue =
              Some(out.earliest_enqueue.map_or(ts, |e: i64| e.min(ts)));
          }
          if applied.earliest_expiry.is_some() {
            out.earliest_expiry = applied.earliest_expiry;
          }
        }
        out.write_results.push(Ok(applied.versionstamp));
      }
      Err(e @ Error::Sqlite(_)) => return Err(e),
      Err(e) => {
        // All-or-nothing: undo this write's version bump and mutations.
        tx.execute_batch("rollback to w; release w")?;
        out.write_results.push(Err(e));
      }
    }
  }
  Ok(())
}

fn apply_finishes(
  tx: &Transaction,
  running: &HashMap<u64, LeaseKey>,
  finishes: &[FinishRequest],
  out: &mut TurnOutput,
  now: i64,
) -> Result<()> {
  for (results, _) in finishes {
    for (token, outcome) in results {
      let Some(lease) = running.get(token) else {
        continue;
      };
      out.finished.push(*token);
      match outcome {
        Outcome::Handled => {
          queue::acknowledge(tx, lease)?;
        }
        Outcome::Failed => record_failure(tx, lease, now, out)?,
        Outcome::Released => {
          queue::release(tx, lease, now)?;
          out.touched_queue = true;
        }
      }
    }
  }
  Ok(())
}

/// Records a failed attempt under its own savepoint. A row this engine
/// cannot read (a schedule or dead-letter list that is not the JSON Deno
/// writes) must not fail the whole group commit again on every sweep: it
/// is dropped, and said so on stderr. A SQLite error still fails the turn.
fn record_failure(
  tx: &Transaction,
  lease: &LeaseKey,
  now: i64,
  out: &mut TurnOutput,
) -> Result<()> {
  tx.execute_batch("savepoint f")?;
  match queue::fail(tx, lease, now) {
    Ok(failed) => {
      tx.execute_batch("release f")?;
      match failed {
        Failed::Requeued => out.touched_queue = true,
        Failed::Undelivered(keys) => out.changed_keys.extend(keys),
        Failed::Gone => {}
      }
    }
    Err(e @ Error::Sqlite(_)) => return Err(e),
    Err(e) => {
      tx.execute_batch("rollback to f; release f")?;
      queue::acknowledge(tx, lease)?;
      eprintln!("kvq: dropped unreadable queue message {}: {e}", lease.id);
    }
  }
  Ok(())
}

#[derive(Default)]
struct TurnOutput {
  write_results: Vec<Result<Option<Versionstamp>>>,
  changed_keys: Vec<Vec<u8>>,
  finished: Vec<u64>,
  claimed: Vec<queue::Claimed>,
  renewed: Option<(i64, Vec<(u64, bool)>)>,
  touched_queue: bool,
  earliest_enqueue: Option<i64>,
  earliest_expiry: Option<i64>,
  expiry_collected: bool,
  next_ready: Option<i64>,
  next_expiry: Option<i64>,
}

fn log_error(what: &str, e: &Error) {
  eprintln!("kvq: {what} failed: {e}");
}
