//! The one thread that owns a database's backend, and decides when
//! everything happens.
//!
//! Each turn of its loop takes every request waiting at that moment:
//! reads are answered together from one snapshot, then writes, outcomes,
//! sweeps, expiry, renewals and claims share ONE write transaction and one
//! fsync (group commit; turn.rs runs the jobs). A turn takes at most
//! [`MAX_TURN_WRITES`] writes, so a flood of writes becomes a series of
//! short transactions that other processes can slip between. Queue
//! deadlines, lease renewal, the sweep of lapsed leases, expiry and the
//! look for other processes' commits are deadlines of the same loop.
//!
//! A panic or a fatal storage error (a corrupt file) stops the worker: every
//! pending and later request gets that error, and the store counts as
//! closed. On close, outcomes already sent are recorded, every message this
//! process still holds is released for others at once, and the backend is
//! closed before [`super::Store::close`] returns.

use std::collections::HashMap;
use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::Receiver;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use denokv_proto::AtomicWrite;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use denokv_proto::Versionstamp;
use rand::Rng;

use super::backend::Backend;
use super::backend::Claimed;
use super::backend::LeaseKey;
use super::inspect;
use super::inspect::Inspect;
use super::inspect::Inspected;
use super::named::NamedCommitted;
use super::named::NamedMeta;
use super::named::NamedWrite;
use super::named::Verdict;
use super::reply::Reply;
use super::turn;
use super::turn::Jobs;
use super::Shared;
use crate::error::Error;
use crate::error::Result;

/// The fastest the worker asks the backend whether another process
/// committed, while anyone listens or watches and things are happening.
/// SQLite's `data_version` reads shared memory: microseconds.
const CHANGE_POLL_MIN: Duration = Duration::from_millis(5);
/// The slowest: after quiet polls the interval doubles up to this, so an
/// idle listener wakes 40 times a second, and another process's write is
/// still seen within this long.
const CHANGE_POLL_MAX: Duration = Duration::from_millis(25);
/// Without listeners or watchers, expiry and lease sweeps still run at
/// least this often.
const IDLE_TICK: Duration = Duration::from_secs(1);
/// The most requests gathered in one turn.
const MAX_BATCH: usize = 4096;
/// The most atomic writes in one transaction. More wait for the next turn,
/// so the write lock is held for milliseconds, never for a whole flood.
pub const MAX_TURN_WRITES: usize = 1024;
/// Between two full turns of a backlog, the worker leaves the write lock
/// free this long, so a waiting process gets its turn.
const BACKLOG_PAUSE: Duration = Duration::from_micros(500);
/// The longest pause after failed transactions before trying again.
const MAX_PAUSE: Duration = Duration::from_secs(1);

/// What a listener reports for a message it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
  /// The handler threw or rejected: retry along the schedule, or
  /// dead-letter.
  Failed,
  /// The handler succeeded: the message is gone.
  Handled,
  /// The handler never ran (the listener stopped): back to the queue now,
  /// the attempt not counted.
  Released,
  /// A named message's failed attempt, and what the listener decided.
  Settled(Verdict),
}

/// A message handed to a listener.
#[derive(Debug)]
pub struct QueueMessage {
  /// Identifies the lease when the message is finished.
  pub token: u64,
  /// The V8 payload.
  pub payload: Vec<u8>,
  /// A named message's metadata.
  pub named: Option<NamedMeta>,
}

/// What a listener's dequeue asks for.
#[derive(Clone, Debug)]
pub struct Dequeue {
  /// The listener (0: anonymous), whose wait a cancel ends.
  pub listener: u64,
  /// The named queue, or `None` for the anonymous one.
  pub queue: Option<Arc<str>>,
  /// The most messages to hand out.
  pub max: usize,
  /// How long the claims last without renewal, in ms; `None`: the
  /// store's lease.
  pub lease_ms: Option<i64>,
}

/// One atomic write waiting for its turn, and where its answer goes.
type PendingWrite = (AtomicWrite, Reply<Option<Versionstamp>>);
/// Named enqueues waiting for their turn, and where their answer goes.
type PendingNamed = (NamedWrite, Reply<Option<NamedCommitted>>);
/// Handler outcomes from one listener, with the reply to send once stored.
type FinishRequest = (Vec<(u64, Outcome)>, Reply<()>);

/// A request to the worker.
pub enum Request {
  /// A snapshot read.
  Read(Vec<ReadRange>, Reply<Vec<ReadRangeOutput>>),
  /// An atomic write; `None` in the reply means a check failed.
  Write(AtomicWrite, Reply<Option<Versionstamp>>),
  /// Several atomic writes, handed over together.
  Writes(Vec<PendingWrite>),
  /// Named enqueues, maybe inside an atomic write; `None` in the reply
  /// means a check failed.
  WriteNamed(NamedWrite, Reply<Option<NamedCommitted>>),
  /// Wait for up to `max` messages of a queue (`None`: the anonymous
  /// one) for a listener (0: anonymous); an empty reply means closed or
  /// cancelled.
  Dequeue(Dequeue, Reply<Vec<QueueMessage>>),
  /// Answer the listener's waiting dequeue with nothing (it stopped).
  CancelDequeue(u64),
  /// Results of handled messages, by token.
  Finish(Vec<(u64, Outcome)>, Reply<()>),
  /// A kvq-only read (inspect.rs), answered between turns.
  Inspect(Inspect, Reply<Inspected>),
  /// Look again at what needs doing (a watcher was added).
  Wake,
  /// Stop: finish what came before, release held messages, close.
  Close,
}

impl Request {
  /// Answers a request the worker will never run with `error`; a dequeue
  /// gets no messages when the store merely closed.
  pub(super) fn refuse(self, error: &Error) {
    macro_rules! err {
      () => {
        Err(error.clone_for_reply())
      };
    }
    match self {
      Request::Read(_, r) => drop(r.send(err!())),
      Request::Write(_, r) => drop(r.send(err!())),
      Request::Writes(w) => {
        for (_, r) in w {
          let _ = r.send(err!());
        }
      }
      Request::WriteNamed(_, r) => drop(r.send(err!())),
      Request::Dequeue(_, r) => match error {
        Error::Closed => drop(r.send(Ok(Vec::new()))),
        _ => drop(r.send(err!())),
      },
      Request::Finish(_, r) => drop(r.send(err!())),
      Request::Inspect(_, r) => drop(r.send(err!())),
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
  fn ms(&self) -> i64 {
    self.lease.as_millis() as i64
  }
  /// The longest pause between failed transactions while this process
  /// knows outcomes it could not record or holds leases it could not
  /// renew: several tries fit in a lease, so once the storage is back
  /// (a server restart) they are recorded before the lease lapses.
  fn retry_every(&self) -> Duration {
    (self.lease / 8).clamp(Duration::from_millis(10), MAX_PAUSE)
  }
}

/// A time stored in the backend, as far as the worker knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
  /// Something changed it: ask the backend before relying on it.
  Stale,
  /// The earliest such time, or none.
  At(Option<i64>),
}

impl Known {
  fn due_by(self, now: i64) -> bool {
    matches!(self, Known::At(Some(ts)) if ts <= now)
  }
}

struct Waiter {
  listener: u64,
  /// The named queue it waits on; `None`: the anonymous queue.
  queue: Option<Arc<str>>,
  max: usize,
  /// Its claims' lease, in ms.
  lease_ms: i64,
  reply: Reply<Vec<QueueMessage>>,
}

/// The requests of one turn that are answered in it.
#[derive(Default)]
struct Gathered {
  reads: Vec<(Vec<ReadRange>, Reply<Vec<ReadRangeOutput>>)>,
  finishes: Vec<FinishRequest>,
  close: bool,
}

pub(super) struct Worker {
  backend: Box<dyn Backend>,
  rx: Receiver<Request>,
  shared: Arc<Shared>,
  lease: LeaseConfig,
  waiters: VecDeque<Waiter>,
  /// Writes waiting for a turn, in arrival order.
  backlog: VecDeque<PendingWrite>,
  /// Named enqueues waiting for a turn, in arrival order.
  named_backlog: VecDeque<PendingNamed>,
  /// The last turn left named enqueues for plain writes: this one takes
  /// them first (backends whose writes commit alone).
  named_first: bool,
  /// Messages this process's listeners hold, by token.
  running: HashMap<u64, LeaseKey>,
  /// The lease of each held message whose lease is not the store's
  /// (a named queue's `leaseMs`), by token.
  lease_of: HashMap<u64, i64>,
  /// Outcomes whose transaction failed: tried again each turn, never
  /// renewed, so if they can never be recorded the lease lapses and the
  /// message comes back.
  unrecorded: Vec<(LeaseKey, Outcome)>,
  /// Claimed for a listener that was gone when they were handed out.
  orphaned: Vec<LeaseKey>,
  next_token: u64,
  next_ready: Known,
  /// Per named queue a listener waits on, its earliest due time; a queue
  /// missing here is [`Known::Stale`].
  named_ready: HashMap<Arc<str>, Known>,
  next_expiry: Known,
  change_token: i64,
  next_renew: Instant,
  next_sweep: Instant,
  next_poll: Instant,
  poll_every: Duration,
  /// The last turn claimed blind or carried writes, and left expiry and
  /// the sweep to this one (see `look_ahead`), which must not do the same.
  deferred: bool,
  /// Failed write transactions in a row, and when to try again.
  failures: u32,
  paused_until: Instant,
  /// When the first of those failed: how long the outage has lasted.
  failing_since: Instant,
}

/// A third of a lease of `ms` milliseconds: how often it is renewed.
fn waiter_renew(ms: i64) -> Duration {
  Duration::from_millis((ms.max(3) / 3) as u64)
}

fn now_ms() -> i64 {
  chrono::Utc::now().timestamp_millis()
}

fn instant_at(ms: i64) -> Instant {
  let delta = ms.saturating_sub(now_ms()).max(0) as u64;
  Instant::now() + Duration::from_millis(delta)
}

impl Worker {
  pub(super) fn new(
    mut backend: Box<dyn Backend>,
    rx: Receiver<Request>,
    shared: Arc<Shared>,
    lease: LeaseConfig,
  ) -> Result<Worker> {
    let change_token = backend.change_token()?;
    let now = Instant::now();
    Ok(Worker {
      backend,
      rx,
      shared,
      lease,
      waiters: VecDeque::new(),
      backlog: VecDeque::new(),
      named_backlog: VecDeque::new(),
      named_first: false,
      running: HashMap::new(),
      lease_of: HashMap::new(),
      unrecorded: Vec::new(),
      orphaned: Vec::new(),
      next_token: 1,
      next_ready: Known::Stale,
      named_ready: HashMap::new(),
      next_expiry: Known::Stale,
      change_token,
      next_renew: now + lease.renew_every(),
      next_sweep: now,
      next_poll: now,
      poll_every: CHANGE_POLL_MIN,
      deferred: false,
      failures: 0,
      failing_since: now,
      paused_until: now,
    })
  }

  /// Runs until closed, until every handle is dropped, or until a panic or
  /// a fatal storage error; then closes the backend.
  pub(super) fn run(mut self) {
    let stopped = std::panic::catch_unwind(AssertUnwindSafe(|| self.serve()));
    let failure = match stopped {
      Ok(Ok(())) => None,
      Ok(Err(e)) => Some(Error::Failed(e.to_string())),
      Err(panic) => Some(Error::Failed(Error::from_panic(&*panic).to_string())),
    };
    if let Some(failure) = &failure {
      self.shared.fail(failure.clone_for_reply());
    }
    let refusal = failure.unwrap_or(Error::Closed);
    let closed =
      std::panic::catch_unwind(AssertUnwindSafe(|| self.shutdown(&refusal)));
    if closed.is_err() {
      self
        .shared
        .fail(Error::Failed("closing the database panicked".into()));
    }
  }

  fn serve(&mut self) -> Result<()> {
    let mut answered = false;
    loop {
      let mut gathered = Gathered::default();
      // A caller just answered usually sends again soon: see `linger`.
      let wake = self.next_wake();
      match crate::linger::recv(&self.rx, answered, Some(wake)) {
        Ok(req) => self.take(req, &mut gathered),
        Err(RecvTimeoutError::Timeout) => {}
        Err(RecvTimeoutError::Disconnected) => gathered.close = true,
      }
      let mut n = 1;
      while !gathered.close && n < MAX_BATCH {
        match self.rx.try_recv() {
          Ok(req) => self.take(req, &mut gathered),
          Err(_) => break,
        }
        n += 1;
      }
      answered = !gathered.reads.is_empty()
        || !gathered.finishes.is_empty()
        || !self.backlog.is_empty()
        || !self.named_backlog.is_empty();
      let close = gathered.close;
      if close {
        // Closing: listeners get nothing more, so no message is claimed
        // that no handler would run.
        for waiter in self.waiters.drain(..) {
          let _ = waiter.reply.send(Ok(Vec::new()));
        }
      }
      self.turn(gathered)?;
      // What a close leaves behind in the backlog still gets its turns.
      while close && self.has_backlog() {
        self.turn(Gathered::default())?;
      }
      if close {
        self.record_before_closing()?;
        return Ok(());
      }
    }
  }

  /// Closing while the storage fails (a server restarting): outcomes and
  /// releases not yet recorded are tried again, with the usual pauses,
  /// for as long as their leases hold; after that the messages come back
  /// to others anyway. The caller's `close` waits a bounded time; the
  /// rest goes on here.
  fn record_before_closing(&mut self) -> Result<()> {
    while self.failures > 0 && !self.unrecorded.is_empty() {
      let now = now_ms();
      let held = self.unrecorded.iter().any(|(l, _)| l.deadline > now);
      if !held {
        break;
      }
      let pause = self.paused_until.saturating_duration_since(Instant::now());
      std::thread::sleep(pause);
      self.turn(Gathered::default())?;
    }
    Ok(())
  }

  fn take(&mut self, req: Request, gathered: &mut Gathered) {
    match req {
      Request::Read(r, reply) => gathered.reads.push((r, reply)),
      Request::Write(w, reply) => self.backlog.push_back((w, reply)),
      Request::Writes(w) => self.backlog.extend(w),
      Request::WriteNamed(w, reply) => self.named_backlog.push_back((w, reply)),
      Request::Finish(f, reply) => gathered.finishes.push((f, reply)),
      Request::Inspect(what, reply) => {
        // A named queue's repair (cancel, redrive, purge) commits on this
        // process's own connection, which no change token reports.
        if let Inspect::Named(_) = what {
          self.named_ready.clear();
        }
        let _ = reply.send(inspect::answer(&mut *self.backend, what));
      }
      Request::Dequeue(d, reply) => {
        // A store without named queues of its own keeps them as keys:
        // a waiter here would fail every turn.
        if d.queue.is_some() && !self.backend.has_named_queues() {
          let e = super::backend::no_named_queues();
          return drop(reply.send(Err(e)));
        }
        self.waiters.push_back(Waiter {
          listener: d.listener,
          queue: d.queue,
          max: d.max,
          lease_ms: d.lease_ms.unwrap_or_else(|| self.lease.ms()),
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
      Request::Wake => self.poll_every = CHANGE_POLL_MIN,
      Request::Close => gathered.close = true,
    }
  }

  fn listening(&self) -> bool {
    !self.waiters.is_empty() || !self.shared.watches.is_empty()
  }

  /// How often held leases are renewed: a third of the shortest lease
  /// held (the store's, or a named queue's own).
  fn renew_every(&self) -> Duration {
    let shortest = self.lease_of.values().copied().min();
    match shortest {
      Some(ms) if ms < self.lease.ms() => waiter_renew(ms),
      _ => self.lease.renew_every(),
    }
  }

  fn has_backlog(&self) -> bool {
    !self.backlog.is_empty() || !self.named_backlog.is_empty()
  }

  /// The named queues listeners wait on, each once.
  fn waited_queues(&self) -> Vec<Arc<str>> {
    let mut queues: Vec<Arc<str>> = Vec::new();
    for w in &self.waiters {
      if let Some(q) = &w.queue {
        if !queues.contains(q) {
          queues.push(q.clone());
        }
      }
    }
    queues
  }

  /// Whether a listener waits on the anonymous queue.
  fn waits_anonymous(&self) -> bool {
    self.waiters.iter().any(|w| w.queue.is_none())
  }

  fn named_known(&self, queue: &Arc<str>) -> Known {
    self.named_ready.get(queue).copied().unwrap_or(Known::Stale)
  }

  fn next_wake(&self) -> Instant {
    let now = Instant::now();
    let mut at = now + IDLE_TICK;
    if self.failures > 0 {
      if self.lease_bound() {
        // Outcomes or leases wait on the storage: try again when the
        // pause (at most `retry_every`) is over, while the leases last.
        return self.paused_until;
      }
      // Only a new request wakes the worker before the pause is over.
      return at.max(self.paused_until);
    }
    if self.has_backlog() {
      return now;
    }
    if self.listening() {
      at = at.min(self.next_poll);
    }
    let mut waited: Vec<Known> = self
      .waited_queues()
      .iter()
      .map(|q| self.named_known(q))
      .collect();
    if self.waits_anonymous() {
      waited.push(self.next_ready);
    }
    for known in waited {
      match known {
        Known::Stale => return now,
        Known::At(Some(ts)) => at = at.min(instant_at(ts)),
        Known::At(None) => {}
      }
    }
    match self.next_expiry {
      Known::Stale => return now,
      Known::At(Some(ts)) => at = at.min(instant_at(ts)),
      Known::At(None) => {}
    }
    if !self.running.is_empty() {
      at = at.min(self.next_renew);
    }
    if !self.unrecorded.is_empty() || !self.orphaned.is_empty() {
      return now;
    }
    at.min(self.next_sweep)
  }

  /// Whether something this process knows is bound to a lease: outcomes
  /// not yet recorded, claimed messages to hand back, leases to renew.
  fn lease_bound(&self) -> bool {
    !self.unrecorded.is_empty()
      || !self.orphaned.is_empty()
      || !self.running.is_empty()
  }

  fn turn(&mut self, gathered: Gathered) -> Result<()> {
    if !gathered.reads.is_empty() {
      self.answer_reads(gathered.reads);
    }
    if let Some(key_sets) = self.shared.watches.take_key_sets() {
      self.backend.watch_keys(&key_sets);
    }
    self.poll_other_processes();
    let full = self.backlog.len() > MAX_TURN_WRITES;
    match self.write_turn(gathered.finishes, gathered.close) {
      Ok(()) => {
        if self.failures > 0 {
          // The storage is back after an outage (a server restart) in
          // which no process could renew or record anything. Other
          // processes' leases may have lapsed meanwhile while their
          // holders still know the outcomes: this process takes none
          // back for as long as the outage lasted (at most one lease) and
          // one retry more, time for every holder to record them (each
          // retries at least every `retry_every`), so an outage costs no
          // duplicate delivery. A dead process's messages come back that
          // much later. Short outages give short graces, so failures that
          // keep coming back cannot put the sweep off for ever.
          let lasted = self.failing_since.elapsed();
          let grace = (lasted + self.lease.retry_every()).min(self.lease.lease);
          self.next_sweep = self.next_sweep.max(Instant::now() + grace);
        }
        self.failures = 0;
      }
      Err(e) if e.is_fatal() => return Err(e),
      Err(_) => {
        // The replies already carry the error. Look at the queue again
        // rather than trust state, and back off (up to a second) so a full
        // or read-only disk does not make this loop spin; while outcomes
        // or leases wait (see `lease_bound`), by at most `retry_every`.
        self.shared.stats.failed_turn();
        self.next_ready = Known::Stale;
        self.named_ready.clear();
        if self.failures == 0 {
          self.failing_since = Instant::now();
        }
        self.failures = (self.failures + 1).min(10);
        let most = match self.lease_bound() {
          true => self.lease.retry_every(),
          false => MAX_PAUSE,
        };
        let pause = Duration::from_millis(1 << self.failures).min(most);
        self.paused_until = Instant::now() + pause;
      }
    }
    if full {
      std::thread::sleep(BACKLOG_PAUSE);
    }
    Ok(())
  }

  fn answer_reads(
    &mut self,
    reads: Vec<(Vec<ReadRange>, Reply<Vec<ReadRangeOutput>>)>,
  ) {
    let now = now_ms();
    let ranges: Vec<&[ReadRange]> =
      reads.iter().map(|(r, _)| r.as_slice()).collect();
    let result = self.retry_busy(|b| b.read(&ranges, now));
    match result {
      Ok(outs) => {
        for ((_, reply), out) in reads.into_iter().zip(outs) {
          let _ = reply.send(out);
        }
      }
      Err(e) => {
        for (_, reply) in reads {
          let _ = reply.send(Err(e.clone_for_reply()));
        }
      }
    }
  }

  /// Runs `f` again while another process holds the write lock longer
  /// than the backend's own wait, sleeping a random 5-20 ms between tries
  /// as Deno does.
  fn retry_busy<R>(
    &mut self,
    mut f: impl FnMut(&mut dyn Backend) -> Result<R>,
  ) -> Result<R> {
    loop {
      match f(self.backend.as_mut()) {
        Err(e) if self.backend.is_busy(&e) => {
          self.backend.rollback();
          let ms = rand::thread_rng().gen_range(5..20);
          std::thread::sleep(Duration::from_millis(ms));
        }
        other => return other,
      }
    }
  }

  /// Notices commits by other connections to the same database. Called on
  /// every turn; while nothing changes, the idle wake-up for it comes ever
  /// less often, up to [`CHANGE_POLL_MAX`].
  fn poll_other_processes(&mut self) {
    self.shared.stats.change_poll();
    match self.backend.change_token() {
      Ok(v) if v != self.change_token => {
        self.change_token = v;
        self.next_ready = Known::Stale;
        self.named_ready.clear();
        self.next_expiry = Known::Stale;
        self.shared.watches.all_changed();
        self.poll_every = CHANGE_POLL_MIN;
      }
      Ok(_) => self.poll_every = (self.poll_every * 2).min(CHANGE_POLL_MAX),
      // A failing poll is retried at the next one; a failing transaction
      // reports the storage error to its callers.
      Err(_) => {}
    }
    self.next_poll = Instant::now() + self.poll_every;
  }

  /// Decides this turn's jobs, runs them in one transaction, and acts on
  /// what they did once committed.
  fn write_turn(
    &mut self,
    finishes: Vec<FinishRequest>,
    closing: bool,
  ) -> Result<()> {
    let t = Instant::now();
    let now = now_ms();
    // Outcomes leave the running set first: whatever becomes of this
    // turn, they are never renewed again, and until a transaction records
    // them they wait in `unrecorded`.
    for (results, _) in &finishes {
      for (token, outcome) in results {
        self.lease_of.remove(token);
        if let Some(lease) = self.running.remove(token) {
          self.unrecorded.push((lease, outcome.clone()));
        }
      }
    }
    if closing {
      // Every message still held goes back for others at once.
      let held = self.running.drain().map(|(_, l)| (l, Outcome::Released));
      self.unrecorded.extend(held);
      self.lease_of.clear();
    }
    self.shared.stats.running(self.running.len());
    // A caller that stopped waiting (its dequeue future was dropped) must
    // not be handed messages: they would sit leased to nobody.
    self.waiters.retain(|w| !w.reply.is_closed());
    if closing || !self.waits_anonymous() {
      // Handed over by another process for a listener gone since: back
      // for others now rather than when the lease lapses.
      self.orphaned.extend(self.backend.unwanted_handoffs());
    }
    let blind = self.claims_blind();
    // Writes wait on this turn too: what it would first ask (the earliest
    // expiry, lapsed leases) waits for the next one, right after.
    let defer = blind || (!self.deferred && self.has_backlog());
    self.deferred = defer;
    let lapsed = match self.look_ahead(t, now, defer) {
      Ok(lapsed) => lapsed,
      Err(e) => {
        answer_finishes(finishes, Err(&e));
        return Err(e);
      }
    };
    // A backend that commits writes on their own (see below) takes named
    // enqueues in a turn without plain writes: every other turn, while
    // both wait, so neither stream can hold the other back.
    let alone_writes = self.backend.commits_writes_alone();
    let named_turn = alone_writes && self.named_first;
    let take = match named_turn {
      true => 0,
      false => self.backlog.len().min(MAX_TURN_WRITES),
    };
    let writes: Vec<PendingWrite> = self.backlog.drain(..take).collect();
    let take = match writes.is_empty() || !alone_writes {
      true => self.named_backlog.len().min(MAX_TURN_WRITES - take),
      false => 0,
    };
    self.named_first = take == 0 && !self.named_backlog.is_empty();
    let named: Vec<PendingNamed> = self.named_backlog.drain(..take).collect();
    let mut jobs = Jobs {
      writes: writes.iter().map(|(w, _)| w).collect(),
      named_writes: named.iter().map(|(w, _)| w).collect(),
      outcomes: std::mem::take(&mut self.unrecorded),
      lapsed,
      orphaned: std::mem::take(&mut self.orphaned),
      expire: self.next_expiry.due_by(now),
      due: blind || self.next_ready.due_by(now),
      lease_ms: self.lease.ms(),
      ..Jobs::default()
    };
    // A backend that commits writes on their own gets a turn of writes
    // alone (Backend::commits_writes_alone); the rest follows at once, in
    // the next turn. Not while closing: the close turn is the last.
    let alone = !closing
      && !jobs.writes.is_empty()
      && self.backend.commits_writes_alone();
    if alone {
      self.unrecorded = std::mem::take(&mut jobs.outcomes);
      self.orphaned = std::mem::take(&mut jobs.orphaned);
      // Found again by the next sweep.
      jobs.lapsed.clear();
      jobs.expire = false;
    }
    let renew = !alone && !self.running.is_empty() && t >= self.next_renew;
    let renewed: Vec<u64> = if renew {
      let store_lease = self.lease.ms();
      let (tokens, leases) = self
        .running
        .iter()
        .map(|(t, l)| {
          let ms = self.lease_of.get(t).copied().unwrap_or(store_lease);
          (*t, (l.clone(), ms))
        })
        .unzip();
      jobs.renew = leases;
      tokens
    } else {
      Vec::new()
    };
    if !alone && self.waits_anonymous() {
      let waiting = self.waiters.iter().filter(|w| w.queue.is_none());
      jobs.claim = Some(waiting.map(|w| w.max).sum());
    }
    if !alone {
      for queue in self.waited_queues() {
        let waiting = self
          .waiters
          .iter()
          .filter(|w| w.queue == Some(queue.clone()));
        let (max, lease_ms) = waiting
          .fold((0, i64::MAX), |(n, ms), w| (n + w.max, ms.min(w.lease_ms)));
        let known = self.named_known(&queue);
        let due = known.due_by(now) || (blind && known == Known::Stale);
        jobs.claim_named.push((queue, max, due, lease_ms));
      }
    }
    let claim_now = (jobs.claim.is_some() && (jobs.due || !writes.is_empty()))
      || jobs.claim_named.iter().any(|(_, _, due, _)| *due)
      || (!jobs.claim_named.is_empty() && !named.is_empty());
    let idle = jobs.writes.is_empty()
      && jobs.named_writes.is_empty()
      && jobs.outcomes.is_empty()
      && jobs.lapsed.is_empty()
      && jobs.orphaned.is_empty()
      && !jobs.expire
      && jobs.renew.is_empty()
      && !claim_now;
    if idle {
      answer_finishes(finishes, Ok(()));
      return Ok(());
    }
    // Only a user's write must be on disk before its promise resolves.
    // Claims, outcomes, renewals and sweeps ride along unsynced: the next
    // synced commit carries them, and losing them to a power cut only
    // means a message is delivered again (at-least-once).
    let synced =
      !jobs.writes.is_empty() || !jobs.named_writes.is_empty() || jobs.expire;
    let result = self.retry_busy(|b| {
      b.begin(synced)?;
      // The clock is read again once the write lock is held: waiting for
      // another process's lock must not age the leases about to be
      // written, or that process's sweep would take them back at once.
      let now = now_ms();
      let done = turn::run(b, &jobs, now).and_then(|d| b.commit().map(|()| d));
      if done.is_err() {
        b.rollback();
      }
      done
    });
    self.shared.stats.transaction(synced);
    self.shared.stats.turn_took(t.elapsed().as_micros() as u64);
    match result {
      Ok(done) => {
        let waited: Vec<Arc<str>> =
          jobs.claim_named.iter().map(|(q, ..)| q.clone()).collect();
        self.after_commit(writes, named, finishes, done, renewed, &waited, t);
        Ok(())
      }
      Err(e) => {
        // Nothing of the turn happened: outcomes and orphans wait for the
        // next one; callers learn why. Added to, not replaced: a turn of
        // writes alone put them back before it ran and took none, and
        // replacing them here would forget them, leaving a handled
        // message leased until a sweep took it back as a failed attempt.
        self.unrecorded.extend(jobs.outcomes);
        self.orphaned.extend(jobs.orphaned);
        for (_, reply) in writes {
          let _ = reply.send(Err(e.clone_for_reply()));
        }
        for (_, reply) in named {
          let _ = reply.send(Err(e.clone_for_reply()));
        }
        answer_finishes(finishes, Err(&e));
        Err(e)
      }
    }
  }

  /// Whether this turn claims without first asking whether anything is
  /// due: another process committed (so the queue's state is unknown), a
  /// listener waits, and the backend says a claim that finds nothing costs
  /// no more than the question (Postgres: one statement either way, and
  /// SKIP LOCKED makes no one wait). The claim's turn then learns the
  /// earliest due time itself, and the question's round trip is no longer
  /// between another process's enqueue and the handler. Never two turns
  /// in a row: while other processes commit without pause, expiry and the
  /// sweep of lapsed leases still get every other turn.
  fn claims_blind(&self) -> bool {
    let stale = (self.waits_anonymous() && self.next_ready == Known::Stale)
      || self
        .waited_queues()
        .iter()
        .any(|q| self.named_known(q) == Known::Stale);
    stale && !self.deferred && self.backend.claims_cheaply()
  }

  /// Refreshes what the worker must know before deciding a turn, and
  /// returns the lapsed leases to sweep when a sweep is due. A turn that
  /// claims blind (see [`Self::claims_blind`]) or carries writes leaves
  /// the expiry and the sweep to the next turn, which follows at once: the
  /// messages and the writes go out first, with no question asked before
  /// them (a round trip each on Postgres). Never two turns in a row, so a
  /// steady stream of writes still gets them every other turn. The
  /// earliest due time is asked only while a listener waits: nothing else
  /// uses it (a turn with writes claims anyway).
  fn look_ahead(
    &mut self,
    t: Instant,
    now: i64,
    defer: bool,
  ) -> Result<Vec<LeaseKey>> {
    if defer {
      return Ok(Vec::new());
    }
    if self.next_ready == Known::Stale && self.waits_anonymous() {
      self.next_ready = Known::At(self.backend.earliest_ready()?);
    }
    for queue in self.waited_queues() {
      if self.named_known(&queue) == Known::Stale {
        let at = self.backend.earliest_named(&queue)?;
        self.named_ready.insert(queue, Known::At(at));
      }
    }
    if self.next_expiry == Known::Stale {
      self.next_expiry = Known::At(self.backend.earliest_expiry()?);
    }
    // While transactions fail, and for a lease after they succeed again
    // (see `turn`), no lapsed lease is taken back.
    if t < self.next_sweep || self.failures > 0 {
      return Ok(Vec::new());
    }
    self.next_sweep = t + self.lease.sweep_every();
    let mine: std::collections::HashSet<&LeaseKey> =
      self.running.values().collect();
    let lapsed = self.backend.lapsed(now)?;
    Ok(lapsed.into_iter().filter(|l| !mine.contains(l)).collect())
  }

  #[allow(clippy::too_many_arguments)]
  fn after_commit(
    &mut self,
    writes: Vec<PendingWrite>,
    named: Vec<PendingNamed>,
    finishes: Vec<FinishRequest>,
    mut done: turn::Done,
    renewed: Vec<u64>,
    waited: &[Arc<str>],
    t: Instant,
  ) {
    let committed = done
      .writes
      .iter()
      .filter(|r| matches!(r, Ok(a) if a.versionstamp.is_some()))
      .count();
    self.shared.stats.commits(committed as u64);
    for _ in 0..done.set_aside {
      self.shared.stats.set_aside();
    }
    // Messages first: a listener's handler is what waits on this turn (a
    // binding that delivers replies one at a time, as Deno FFI does, would
    // otherwise start it a round trip after the enqueue's answer).
    self.hand_out(None, std::mem::take(&mut done.claimed));
    for (queue, claimed) in std::mem::take(&mut done.claimed_named) {
      self.hand_out(Some(&queue), claimed);
    }
    for ((_, reply), result) in writes.into_iter().zip(done.writes) {
      let _ = reply.send(result.map(|a| a.versionstamp));
    }
    for ((_, reply), result) in named.into_iter().zip(done.named_writes) {
      let _ = reply.send(result.map(|a| a.committed));
    }
    // What moved in a queue no listener here waits on is asked again when
    // one does; what moved where one waits was asked in the turn.
    for queue in &done.named_moved {
      if !waited.contains(queue) {
        self.named_ready.remove(queue);
      }
    }
    for (queue, at) in done.next_named.drain(..) {
      self.named_ready.insert(queue, Known::At(at));
    }
    answer_finishes(finishes, Ok(()));
    if !renewed.is_empty() {
      self.next_renew = t + self.renew_every();
      let outcomes = done.renewed.iter().zip(&done.renewed_until);
      for (token, (still_ours, until)) in renewed.into_iter().zip(outcomes) {
        if *still_ours {
          if let Some(l) = self.running.get_mut(&token) {
            l.deadline = *until;
          }
        } else {
          self.running.remove(&token);
          self.lease_of.remove(&token);
        }
      }
    }
    if done.queue_moved {
      self.next_ready = Known::At(done.next_ready);
    }
    if done.expiry_unknown {
      self.next_expiry = Known::Stale;
    } else if done.expiry_moved {
      self.next_expiry = Known::At(done.next_expiry);
    }
    self.shared.stats.running(self.running.len());
    self.shared.watches.keys_changed(&done.changed_keys);
  }

  fn hand_out(&mut self, queue: Option<&Arc<str>>, claimed: Vec<Claimed>) {
    self.shared.stats.claimed(claimed.len() as u64);
    let claim_ms = self
      .waiters
      .iter()
      .filter(|w| w.queue.as_ref() == queue)
      .map(|w| w.lease_ms)
      .min()
      .unwrap_or_else(|| self.lease.ms());
    let mut claimed = claimed.into_iter();
    while claimed.len() > 0 {
      let next = self.waiters.iter().position(|w| w.queue.as_ref() == queue);
      let Some(waiter) = next.and_then(|i| self.waiters.remove(i)) else {
        // More claimed than asked for cannot happen; if it did, the rest
        // go back next turn.
        self.orphaned.extend(claimed.map(|c| c.lease));
        break;
      };
      let mut batch = Vec::with_capacity(waiter.max.min(claimed.len()));
      // The claim lasted the shortest lease of the queue's waiters.
      let lease_ms = claim_ms.min(waiter.lease_ms);
      let shorter = self.renew_every() > waiter_renew(lease_ms);
      for c in claimed.by_ref().take(waiter.max) {
        let token = self.next_token;
        self.next_token += 1;
        self.running.insert(token, c.lease);
        if lease_ms != self.lease.ms() {
          self.lease_of.insert(token, lease_ms);
        }
        batch.push(QueueMessage {
          token,
          payload: c.payload,
          named: c.named,
        });
      }
      if shorter {
        // Leases shorter than any held before: renew in time for them.
        self.next_renew =
          self.next_renew.min(Instant::now() + self.renew_every());
      }
      if let Err(Ok(batch)) = waiter.reply.send(Ok(batch)) {
        // The listener went away before it got them: the next turn gives
        // them back to the queue, their attempt not counted.
        for m in batch {
          self.lease_of.remove(&m.token);
          if let Some(lease) = self.running.remove(&m.token) {
            self.orphaned.push(lease);
          }
        }
      }
    }
  }

  /// Answers everything still waiting with `error` (or, for a close,
  /// nothing), then closes the backend.
  fn shutdown(&mut self, error: &Error) {
    for waiter in self.waiters.drain(..) {
      let answer = match error {
        Error::Closed => Ok(Vec::new()),
        e => Err(e.clone_for_reply()),
      };
      let _ = waiter.reply.send(answer);
    }
    for (_, reply) in self.backlog.drain(..) {
      let _ = reply.send(Err(error.clone_for_reply()));
    }
    for (_, reply) in self.named_backlog.drain(..) {
      let _ = reply.send(Err(error.clone_for_reply()));
    }
    self.shared.watches.close();
    self.backend.rollback();
    // A failed close leaves the files as the last commit left them: the
    // next open recovers them, as after a crash.
    let _ = self.backend.close();
    // Last, so that a request sent while the backend was closing is still
    // answered with the reason rather than dropped with the channel.
    while let Ok(req) = self.rx.try_recv() {
      req.refuse(error);
    }
  }
}

fn answer_finishes(finishes: Vec<FinishRequest>, result: Result<(), &Error>) {
  for (_, reply) in finishes {
    let _ = reply.send(result.map_err(Error::clone_for_reply));
  }
}
