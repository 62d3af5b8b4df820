//! [`Store`]: the cheap, cloneable, async handle to one open database.

use std::num::NonZeroU32;
use std::sync::mpsc;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use denokv_proto::AtomicWrite;
use denokv_proto::KvEntry;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use denokv_proto::Versionstamp;
use tokio::sync::oneshot;

use super::backend::Backend;
use super::backend::DirectReader;
use super::backend::Durability;
use super::inspect::Inspect;
use super::inspect::Inspected;
use super::named::NamedAdmin;
use super::named::NamedAnswer;
use super::named::NamedCommitted;
use super::named::NamedWrite;
use super::reply::Reply;
use super::stats::StatsSnapshot;
use super::watch::WatchSlot;
use super::worker::Dequeue;
use super::worker::LeaseConfig;
use super::worker::Outcome;
use super::worker::QueueMessage;
use super::worker::Request;
use super::worker::Worker;
use super::Shared;
use crate::error::Error;
use crate::error::Result;
use crate::limits::Limits;

/// The most messages one dequeue hands out.
pub const MAX_DEQUEUE: usize = 1024;

/// How a database is opened.
#[derive(Clone, Debug)]
pub struct OpenOptions {
  /// When a resolved write is on disk.
  pub durability: Durability,
  /// How long a claimed message stays leased without renewal. A listener's
  /// leases are renewed every third of this while its handlers run; a dead
  /// process's messages come back this long after it died.
  pub lease: Duration,
  /// Size and count limits.
  pub limits: Limits,
}

impl Default for OpenOptions {
  fn default() -> Self {
    OpenOptions {
      durability: Durability::Full,
      lease: Duration::from_secs(30),
      limits: Limits::default(),
    }
  }
}

/// An open database. Clones share the same worker; the worker stops when
/// [`Store::close`] is called or the last clone is dropped.
#[derive(Clone)]
pub struct Store {
  tx: Arc<Mutex<Option<mpsc::Sender<Request>>>>,
  /// Reads on the caller's thread, where the backend offers them (a SQLite
  /// file's second connection); `None` sends every read to the worker.
  reader: Option<Arc<dyn DirectReader>>,
  /// The worker thread and the signal it sends as it ends, which
  /// [`Store::close`] waits for.
  worker: Arc<Mutex<Option<WorkerThread>>>,
  shared: Arc<Shared>,
  limits: Arc<Limits>,
}

impl Store {
  /// Opens a file (created if missing, migrated to Deno's schema) or, with
  /// `None`, a private in-memory database. Blocks while it creates or
  /// migrates the file, and waits at most
  /// [`crate::sqlite::OPEN_LOCK_WAIT`] for another process's lock: call it
  /// off any event loop (`ops::open_then` does).
  pub fn open(path: Option<&str>, options: OpenOptions) -> Result<Store> {
    check_lease(&options)?;
    let (backend, reader) = crate::sqlite::open(path, options.durability)?;
    let reader = reader.map(|r| Arc::new(r) as Arc<dyn DirectReader>);
    Store::with_backend(Box::new(backend), reader, options)
  }

  /// Starts the engine on a backend that is already open: how every
  /// backend is put behind a store (and how a test wraps one).
  pub fn with_backend(
    mut backend: Box<dyn Backend>,
    reader: Option<Arc<dyn DirectReader>>,
    options: OpenOptions,
  ) -> Result<Store> {
    check_lease(&options)?;
    let shared = Arc::new(Shared::default());
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(Some(tx)));
    // Weak: the backend's wake must not keep the worker's channel open
    // once every handle is gone.
    let weak = Arc::downgrade(&tx);
    backend.set_wake(Box::new(move || {
      if let Some(tx) = weak.upgrade() {
        let tx = tx.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = tx.as_ref() {
          let _ = tx.send(Request::Wake);
        }
      }
    }));
    let lease = LeaseConfig {
      lease: options.lease,
    };
    let worker = Worker::new(backend, rx, shared.clone(), lease)?;
    let (ended_tx, ended) = mpsc::channel();
    let thread = std::thread::Builder::new()
      .name("kvq-worker".into())
      .spawn(move || {
        worker.run();
        let _ = ended_tx.send(());
      })
      .map_err(|e| Error::Internal(format!("spawning the worker: {e}")))?;
    let id = thread.thread().id();
    Ok(Store {
      tx,
      reader,
      worker: Arc::new(Mutex::new(Some(WorkerThread { id, ended }))),
      shared,
      limits: Arc::new(options.limits),
    })
  }

  fn send(&self, req: Request) -> Result<()> {
    let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
    match guard.as_ref() {
      Some(tx) => tx.send(req).map_err(|_| self.shared.refusal()),
      None => Err(self.shared.refusal()),
    }
  }

  /// Hands a request to the worker; if the worker is gone, answers it on
  /// the spot, with the error that stopped it or as closed.
  fn submit(&self, req: Request) {
    if let Some(failure) = self.failure() {
      return req.refuse(&failure);
    }
    let guard = self.tx.lock().unwrap_or_else(|p| p.into_inner());
    let refused = match guard.as_ref() {
      Some(tx) => tx.send(req).err().map(|e| e.0),
      None => Some(req),
    };
    drop(guard);
    if let Some(req) = refused {
      req.refuse(&self.shared.refusal());
    }
  }

  async fn ask<T>(&self, make: impl FnOnce(Reply<T>) -> Request) -> Result<T> {
    let (reply, answer) = oneshot::channel();
    self.submit(make(Reply::channel(reply)));
    answer.await.map_err(|_| self.shared.refusal())?
  }

  /// The limits this store checks requests against.
  pub fn limits(&self) -> &Limits {
    &self.limits
  }

  /// Reads up to 10 ranges from one consistent snapshot. Expired entries
  /// are never returned.
  pub async fn snapshot_read(
    &self,
    ranges: Vec<ReadRange>,
  ) -> Result<Vec<ReadRangeOutput>> {
    self.limits.check_read(&ranges)?;
    self.ask(|r| Request::Read(ranges, r)).await
  }

  /// Answers a snapshot read on the calling thread, when the store has a
  /// reader connection and it is not locked; `None` means "ask
  /// [`Store::snapshot_read`] instead". A read takes microseconds, far less
  /// than the two thread hops of the async path.
  pub fn snapshot_read_now(
    &self,
    ranges: &[ReadRange],
  ) -> Option<Result<Vec<ReadRangeOutput>>> {
    if let Err(e) = self.limits.check_read(ranges) {
      return Some(Err(e));
    }
    if let Some(failure) = self.failure() {
      return Some(Err(failure));
    }
    let now = chrono::Utc::now().timestamp_millis();
    self.reader.as_ref()?.read_now(ranges, now)
  }

  /// The error that stopped the engine, if it stopped on one.
  fn failure(&self) -> Option<Error> {
    match self.shared.refusal() {
      Error::Closed => None,
      e => Some(e),
    }
  }

  /// Commits an atomic write: `Some(versionstamp)` when it committed,
  /// `None` when a check failed. All-or-nothing: if any mutation fails,
  /// nothing is written and the version does not move.
  pub async fn atomic_write(
    &self,
    write: AtomicWrite,
  ) -> Result<Option<Versionstamp>> {
    let (reply, answer) = oneshot::channel();
    self.atomic_write_then(write, Reply::channel(reply));
    answer.await.map_err(|_| Error::Closed)?
  }

  /// [`Store::atomic_write`], answered through `reply` (for example a
  /// callback that settles a JavaScript promise from the worker thread).
  pub fn atomic_write_then(
    &self,
    write: AtomicWrite,
    reply: Reply<Option<Versionstamp>>,
  ) {
    match self.limits.check_atomic(&write) {
      Ok(()) => self.submit(Request::Write(write, reply)),
      Err(e) => drop(reply.send(Err(e))),
    }
  }

  /// Commits several atomic writes in one transaction and one fsync, each
  /// still all-or-nothing on its own, with its own outcome in order.
  pub async fn atomic_write_many(
    &self,
    writes: Vec<AtomicWrite>,
  ) -> Vec<Result<Option<Versionstamp>>> {
    let (reply, answer) = oneshot::channel();
    self.atomic_write_many_then(writes, move |outcomes| {
      let _ = reply.send(outcomes);
    });
    answer.await.unwrap_or_default()
  }

  /// [`Store::atomic_write_many`], calling `done` with every outcome once
  /// the last one is known (on the worker thread).
  pub fn atomic_write_many_then(
    &self,
    writes: Vec<AtomicWrite>,
    done: impl FnOnce(Vec<Result<Option<Versionstamp>>>) + Send + 'static,
  ) {
    let gather = Gather::new(writes.len(), done);
    let mut batch = Vec::with_capacity(writes.len());
    for (i, write) in writes.into_iter().enumerate() {
      match self.limits.check_atomic(&write) {
        Err(e) => Gather::set(&gather, i, Err(e)),
        Ok(()) => {
          let gather = gather.clone();
          let reply = move |r| Gather::set(&gather, i, r);
          batch.push((write, Reply::callback(reply)));
        }
      }
    }
    if !batch.is_empty() {
      self.submit(Request::Writes(batch));
    }
  }

  /// Waits until at least one message is due, then leases up to `max`.
  /// Resolves to an empty list when the store closes.
  pub async fn dequeue(&self, max: usize) -> Result<Vec<QueueMessage>> {
    self.dequeue_for(0, max).await
  }

  /// [`Store::dequeue`] on behalf of `listener` (a nonzero id the caller
  /// chooses), whose wait [`Store::cancel_dequeue`] can end.
  pub async fn dequeue_for(
    &self,
    listener: u64,
    max: usize,
  ) -> Result<Vec<QueueMessage>> {
    let (reply, answer) = oneshot::channel();
    self.dequeue_then(listener, max, Reply::channel(reply));
    match answer.await.map_err(|_| Error::Closed)? {
      Err(Error::Closed) => Ok(Vec::new()),
      other => other,
    }
  }

  /// [`Store::dequeue_for`], answered through `reply`.
  pub fn dequeue_then(
    &self,
    listener: u64,
    max: usize,
    reply: Reply<Vec<QueueMessage>>,
  ) {
    let d = Dequeue {
      listener,
      queue: None,
      max,
      lease_ms: None,
    };
    self.dequeue_from(d, reply)
  }

  /// [`Store::dequeue_then`] from named queue `queue`: its messages carry
  /// their metadata ([`QueueMessage::named`]); claims last `lease_ms`
  /// (`None`: the store's lease; at least 30 ms).
  pub fn dequeue_named_then(
    &self,
    listener: u64,
    queue: &str,
    max: usize,
    lease_ms: Option<i64>,
    reply: Reply<Vec<QueueMessage>>,
  ) {
    if let Err(e) = check_queue_name(queue) {
      return drop(reply.send(Err(e)));
    }
    if lease_ms.is_some_and(|ms| !(30..=86_400_000).contains(&ms)) {
      let e = Error::InvalidOption(
        "leaseMs must be between 30 and 86400000 milliseconds".into(),
      );
      return drop(reply.send(Err(e)));
    }
    let d = Dequeue {
      listener,
      queue: Some(Arc::from(queue)),
      max,
      lease_ms,
    };
    self.dequeue_from(d, reply)
  }

  /// [`Store::dequeue_named_then`] as a future.
  pub async fn dequeue_named(
    &self,
    listener: u64,
    queue: &str,
    max: usize,
  ) -> Result<Vec<QueueMessage>> {
    let (reply, answer) = oneshot::channel();
    self.dequeue_named_then(listener, queue, max, None, Reply::channel(reply));
    match answer.await.map_err(|_| Error::Closed)? {
      Err(Error::Closed) => Ok(Vec::new()),
      other => other,
    }
  }

  fn dequeue_from(&self, mut d: Dequeue, reply: Reply<Vec<QueueMessage>>) {
    if d.max == 0 {
      let e = Error::InvalidOption("dequeue needs max >= 1".into());
      return drop(reply.send(Err(e)));
    }
    // One claim holds at most this many messages, whatever the listener's
    // concurrency: a transaction and a renewal stay small.
    d.max = d.max.min(MAX_DEQUEUE);
    self.submit(Request::Dequeue(d, reply));
  }

  /// Stores named-queue messages, inside `write.atomic` when given (all
  /// or nothing with it): `Some` with the versionstamp and each message's
  /// fate once committed, `None` when a check failed.
  pub async fn write_named(
    &self,
    write: NamedWrite,
  ) -> Result<Option<NamedCommitted>> {
    let (reply, answer) = oneshot::channel();
    self.write_named_then(write, Reply::channel(reply));
    answer.await.map_err(|_| Error::Closed)?
  }

  /// [`Store::write_named`], answered through `reply`.
  pub fn write_named_then(
    &self,
    write: NamedWrite,
    reply: Reply<Option<NamedCommitted>>,
  ) {
    match self.check_named(&write) {
      Ok(()) => self.submit(Request::WriteNamed(write, reply)),
      Err(e) => drop(reply.send(Err(e))),
    }
  }

  fn check_named(&self, write: &NamedWrite) -> Result<()> {
    if let Some(atomic) = &write.atomic {
      self.limits.check_atomic(atomic)?;
    }
    for e in &write.enqueues {
      check_queue_name(&e.queue)?;
      check_named_id(&e.id)?;
      if let Some(group) = &e.group {
        check_tag("group", group)?;
      }
      if let Some((dedup_id, _)) = &e.dedup {
        check_tag("dedupId", dedup_id)?;
      }
      if e.payload.len() > self.limits.max_value_size_bytes {
        return Err(Error::EnqueuePayloadTooLarge(
          self.limits.max_value_size_bytes,
        ));
      }
    }
    Ok(())
  }

  /// Ends `listener`'s waiting dequeue with an empty batch, so a listener
  /// that stopped takes no more messages. A no-op if it is not waiting.
  pub fn cancel_dequeue(&self, listener: u64) {
    let _ = self.send(Request::CancelDequeue(listener));
  }

  /// Reports what became of delivered messages (see [`Outcome`]). Unknown
  /// tokens are ignored (the lease had lapsed).
  pub async fn finish(&self, results: Vec<(u64, Outcome)>) -> Result<()> {
    let (reply, answer) = oneshot::channel();
    self.finish_then(results, Reply::channel(reply));
    answer.await.map_err(|_| Error::Closed)?
  }

  /// [`Store::finish`], answered through `reply`.
  pub fn finish_then(&self, results: Vec<(u64, Outcome)>, reply: Reply<()>) {
    if results.is_empty() {
      return drop(reply.send(Ok(())));
    }
    self.submit(Request::Finish(results, reply));
  }

  /// kvq's own read beyond `Deno.Kv` (inspect.rs: expiries, the queue's
  /// messages not yet handled), answered by the worker between turns.
  pub fn inspect_then(&self, what: Inspect, reply: Reply<Inspected>) {
    self.submit(Request::Inspect(what, reply));
  }

  /// A named queue's management request (engine/named.rs), answered by
  /// the worker between turns.
  pub async fn named_admin(&self, what: NamedAdmin) -> Result<NamedAnswer> {
    let (reply, answer) = oneshot::channel();
    self.inspect_then(Inspect::Named(what), Reply::channel(reply));
    match answer.await.map_err(|_| Error::Closed)?? {
      Inspected::Named(answer) => Ok(answer),
      _ => Err(Error::Internal("a named request got another answer".into())),
    }
  }

  /// Watches up to 10 keys. `raw` reports every write to them, even one
  /// that changed nothing.
  pub fn watch(&self, keys: Vec<Vec<u8>>, raw: bool) -> Result<Watcher> {
    self.limits.check_watch(&keys)?;
    if self.shared.watches.is_closed() {
      return Err(Error::Closed);
    }
    let slot = self.shared.watches.register(keys);
    // Wake the worker so it starts looking for other processes' writes
    // and hands the new key set to the backend.
    let _ = self.send(Request::Wake);
    Ok(Watcher {
      store: self.clone(),
      slot,
      raw,
      seen: None,
      generation: 0,
    })
  }

  /// Closes the database and waits until it is closed: writes and
  /// outcomes sent before are committed, messages this process's listeners
  /// still hold are released for other listeners, the backend is closed
  /// (for SQLite: the WAL checkpointed into the file and removed). Later
  /// requests fail with [`Error::Closed`]; listeners and watchers end.
  /// Idempotent; from the worker's own thread it does not wait, and it
  /// waits at most [`CLOSE_WAIT`] (another process may hold the write lock
  /// indefinitely): the close then completes in the background.
  pub fn close(&self) {
    let sender = self.tx.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(tx) = sender {
      let _ = tx.send(Request::Close);
    }
    // The reader goes now, not when the last clone is dropped, so the file
    // is free once the worker has closed too.
    if let Some(reader) = &self.reader {
      reader.close();
    }
    self.shared.watches.close();
    let worker = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(worker) = worker {
      if worker.id != std::thread::current().id() {
        // The worker catches its own panics and always signals its end;
        // a disconnect means it is gone all the same.
        let _ = worker.ended.recv_timeout(CLOSE_WAIT);
      }
    }
  }

  /// Counters of what the engine has done so far.
  pub fn stats(&self) -> StatsSnapshot {
    self.shared.stats.snapshot()
  }
}

/// The longest [`Store::close`] waits for the engine to commit what came
/// before and close the file. A close normally takes one commit; it waits
/// longer only while another process holds the write lock.
pub const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// The worker thread, as `close()` needs it.
struct WorkerThread {
  id: std::thread::ThreadId,
  /// Receives once the worker has closed the backend and ended.
  ended: mpsc::Receiver<()>,
}

/// The longest queue name, group or dedup id, in UTF-8 bytes: the
/// TypeScript API allows 256 UTF-16 code units, at most 3 bytes each.
pub const MAX_QUEUE_NAME: usize = 768;

fn check_queue_name(queue: &str) -> Result<()> {
  check_tag("queue name", queue)
}

/// A queue name, group or dedup id: non-empty, at most [`MAX_QUEUE_NAME`]
/// bytes.
fn check_tag(what: &str, tag: &str) -> Result<()> {
  if tag.is_empty() || tag.len() > MAX_QUEUE_NAME {
    return Err(Error::InvalidOption(format!(
      "{what} must be a non-empty string of at most 256 characters"
    )));
  }
  Ok(())
}

/// A named message's id: 32 lowercase hex digits (the TypeScript API
/// makes them, enqueue time first: the SQLite backend keys its rows by
/// them, so they sit in about the order a drain takes them).
fn check_named_id(id: &str) -> Result<()> {
  let hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
  if id.len() != 32 || !id.chars().all(hex) {
    return Err(Error::Malformed(format!("a named message id: {id:?}")));
  }
  Ok(())
}

fn check_lease(options: &OpenOptions) -> Result<()> {
  if options.lease < Duration::from_millis(30) {
    return Err(Error::InvalidOption(
      "leaseMs must be at least 30 milliseconds".into(),
    ));
  }
  Ok(())
}

/// Collects the outcomes of a batch of writes answered one by one, and
/// hands them over, in order, when the last arrives.
struct Gather<T> {
  state: Mutex<(Vec<Option<Result<T>>>, usize)>,
  done: Mutex<Option<GatherDone<T>>>,
}

/// What a [`Gather`] calls with every outcome.
type GatherDone<T> = Box<dyn FnOnce(Vec<Result<T>>) + Send>;

impl<T: Send + 'static> Gather<T> {
  fn new(
    n: usize,
    done: impl FnOnce(Vec<Result<T>>) + Send + 'static,
  ) -> Arc<Self> {
    let gather = Arc::new(Gather {
      state: Mutex::new(((0..n).map(|_| None).collect(), n)),
      done: Mutex::new(Some(Box::new(done))),
    });
    if n == 0 {
      Gather::finish(&gather, Vec::new());
    }
    gather
  }

  fn set(this: &Arc<Self>, i: usize, result: Result<T>) {
    let mut state = this.state.lock().unwrap_or_else(|p| p.into_inner());
    if state.0[i].is_none() {
      state.0[i] = Some(result);
      state.1 -= 1;
    }
    if state.1 > 0 {
      return;
    }
    let results = std::mem::take(&mut state.0)
      .into_iter()
      .map(|r| r.unwrap_or(Err(Error::Closed)))
      .collect();
    drop(state);
    Gather::finish(this, results);
  }

  fn finish(this: &Arc<Self>, results: Vec<Result<T>>) {
    let done = this.done.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(done) = done {
      done(results);
    }
  }
}

/// A stream of states of up to 10 keys; see [`Store::watch`].
pub struct Watcher {
  store: Store,
  slot: Arc<WatchSlot>,
  raw: bool,
  seen: Option<Vec<Option<Versionstamp>>>,
  generation: u64,
}

impl Watcher {
  /// The next state of the keys, one entry per key in order (`None` for a
  /// missing key). The first call returns at once; later calls wait for a
  /// change. `Ok(None)` means the store closed.
  pub async fn next(&mut self) -> Result<Option<Vec<Option<KvEntry>>>> {
    use std::sync::atomic::Ordering;
    loop {
      if self.seen.is_some() {
        if self.store.shared.watches.is_closed()
          || self.slot.cancelled.load(Ordering::SeqCst)
        {
          return Ok(None);
        }
        let generation = self.slot.generation.load(Ordering::SeqCst);
        if generation == self.generation {
          self.slot.notify.notified().await;
          continue;
        }
        self.generation = generation;
      } else {
        self.generation = self.slot.generation.load(Ordering::SeqCst);
      }
      let entries = match self.read().await {
        Err(Error::Closed) => return Ok(None),
        other => other?,
      };
      let stamps: Vec<Option<Versionstamp>> = entries
        .iter()
        .map(|e| e.as_ref().map(|e| e.versionstamp))
        .collect();
      let changed = self.seen.as_ref() != Some(&stamps);
      let written = self.slot.written.swap(false, Ordering::SeqCst);
      if changed || (self.raw && written) {
        self.seen = Some(stamps);
        return Ok(Some(entries));
      }
    }
  }

  /// A handle that ends this watch from anywhere, even while `next()` is
  /// waiting on another thread.
  pub fn canceller(&self) -> WatchCanceller {
    WatchCanceller {
      slot: self.slot.clone(),
      store: self.store.clone(),
    }
  }

  async fn read(&self) -> Result<Vec<Option<KvEntry>>> {
    let one = NonZeroU32::MIN;
    let ranges = self
      .slot
      .keys
      .iter()
      .map(|k| {
        let mut end = k.clone();
        end.push(0);
        ReadRange {
          start: k.clone(),
          end,
          limit: one,
          reverse: false,
        }
      })
      .collect();
    let out = self.store.ask(|r| Request::Read(ranges, r)).await?;
    Ok(
      out
        .into_iter()
        .map(|r| r.entries.into_iter().next())
        .collect(),
    )
  }
}

impl Drop for Watcher {
  fn drop(&mut self) {
    self.store.unwatch(&self.slot);
  }
}

impl Store {
  /// A watch ended: its keys leave the set the backend follows.
  fn unwatch(&self, slot: &Arc<WatchSlot>) {
    self.shared.watches.unregister(slot);
    let _ = self.send(Request::Wake);
  }
}

/// Ends a [`Watcher`] from another thread; see [`Watcher::canceller`].
#[derive(Clone)]
pub struct WatchCanceller {
  slot: Arc<WatchSlot>,
  store: Store,
}

impl WatchCanceller {
  /// Ends the watch: a waiting `next()` returns `Ok(None)`.
  pub fn cancel(&self) {
    self.slot.cancel();
    self.store.unwatch(&self.slot);
  }
}
