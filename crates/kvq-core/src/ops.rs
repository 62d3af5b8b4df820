//! The operations both bindings expose, bytes in and bytes out.
//!
//! A binding looks up its handle, calls one of these and hands the reply to
//! JavaScript; it has no logic of its own. Each function decodes its
//! request before it returns its future, so the future owns everything it
//! needs (`'static`) and runs on any executor. A panic anywhere below is
//! caught here and becomes a `KVQ_INTERNAL` error reply: nothing unwinds
//! into Node or Deno.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::Context;
use std::task::Poll;
use std::time::Duration;

use crate::engine::Durability;
use crate::engine::OpenOptions;
use crate::engine::QueueMessage;
use crate::engine::Reply as Answer;
use crate::engine::Store;
use crate::engine::Watcher;
use crate::error::Error;
use crate::error::Result;
use crate::wire;

/// The longest lease `openKv` accepts: a day. Longer only delays the
/// return of a dead process's messages.
const MAX_LEASE_MS: f64 = 86_400_000.0;

/// Opens a database. `path` is a file path, or `:memory:` for a private
/// in-memory database; `options` is JSON: `{"leaseMs"?: number,
/// "durability"?: "full" | "relaxed"}`.
pub fn open(path: &str, options: &str) -> Result<Store> {
  guard(|| {
    let parsed = parse_options(options)?;
    if is_postgres_url(path) {
      return open_postgres(path, options, parsed);
    }
    if is_remote_url(path) {
      return open_remote(path, options, parsed);
    }
    let options = parsed;
    let path = (path != ":memory:").then_some(path);
    Store::open(path, options)
  })
}

/// Whether `path` is a `postgres://` or `postgresql://` URL.
fn is_postgres_url(path: &str) -> bool {
  let head = path.get(..13).unwrap_or(path).to_ascii_lowercase();
  head.starts_with("postgres://") || head.starts_with("postgresql://")
}

#[cfg(feature = "postgres")]
fn open_postgres(url: &str, json: &str, options: OpenOptions) -> Result<Store> {
  crate::postgres::open_store(url, json, options)
}

#[cfg(not(feature = "postgres"))]
fn open_postgres(_: &str, _: &str, _: OpenOptions) -> Result<Store> {
  Err(Error::InvalidOption(
    "openKv: this build of kvq has no Postgres backend".into(),
  ))
}

/// Whether `path` is an `http://` or `https://` URL: a KV Connect database.
fn is_remote_url(path: &str) -> bool {
  let head = path.get(..8).unwrap_or(path).to_ascii_lowercase();
  head.starts_with("http://") || head.starts_with("https://")
}

#[cfg(feature = "remote")]
fn open_remote(url: &str, json: &str, options: OpenOptions) -> Result<Store> {
  crate::remote::open_store(url, json, options)
}

#[cfg(not(feature = "remote"))]
fn open_remote(_: &str, _: &str, _: OpenOptions) -> Result<Store> {
  Err(Error::InvalidOption(
    "openKv: this build of kvq has no KV Connect backend".into(),
  ))
}

/// What [`open_then`] hands its result to: the store, or the error reply.
pub type Opened = Box<dyn FnOnce(std::result::Result<Store, Vec<u8>>) + Send>;

/// [`open`] off the caller's thread: opening creates or migrates the file
/// and may wait for another process's write lock, which must never stall a
/// JavaScript event loop. `done` runs on the opening thread (or, if no
/// thread can be started, on the caller's, with the error).
pub fn open_then(path: String, options: String, done: Opened) {
  let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(done)));
  let theirs = slot.clone();
  let spawned =
    std::thread::Builder::new()
      .name("kvq-open".into())
      .spawn(move || {
        let opened = open(&path, &options).map_err(|e| wire::error_reply(&e));
        let done = theirs.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(done) = done {
          done(opened);
        }
      });
  if let Err(e) = spawned {
    let done = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(done) = done {
      let e = Error::Internal(format!("starting the opening thread: {e}"));
      done(Err(wire::error_reply(&e)));
    }
  }
}

fn parse_options(json: &str) -> Result<OpenOptions> {
  let mut options = OpenOptions::default();
  if json.trim().is_empty() {
    return Ok(options);
  }
  let value: serde_json::Value = serde_json::from_str(json)
    .map_err(|e| Error::Malformed(format!("open options: {e}")))?;
  // The one check of these options: the TypeScript layer only makes sure
  // they survive JSON (a finite number), so the messages are these.
  if let Some(ms) = value.get("leaseMs").filter(|v| !v.is_null()) {
    let ms = ms
      .as_f64()
      .filter(|ms| (30.0..=MAX_LEASE_MS).contains(ms))
      .ok_or_else(|| {
        Error::InvalidOption(format!(
          "openKv: leaseMs must be a number of milliseconds from 30 to {MAX_LEASE_MS}: received {ms}"
        ))
      })?;
    options.lease = Duration::from_millis(ms as u64);
  }
  match value.get("durability").filter(|v| !v.is_null()) {
    None => {}
    Some(v) if v == "full" => {}
    Some(v) if v == "relaxed" => options.durability = Durability::Relaxed,
    Some(other) => {
      return Err(Error::InvalidOption(format!(
        "openKv: durability must be \"full\" or \"relaxed\": received {other}"
      )))
    }
  }
  Ok(options)
}

/// A reply that is either ready now or will be.
pub enum Reply<F> {
  /// Answered on the calling thread.
  Ready(Vec<u8>),
  /// Answered by the worker; await it.
  Later(F),
}

/// A snapshot read; see docs/wire.md for both buffers. File databases
/// answer at once on the calling thread; in-memory ones (and a read that
/// meets a lock) go through the worker.
pub fn snapshot_read(
  store: &Store,
  request: &[u8],
) -> Reply<impl Future<Output = Vec<u8>> + Send + 'static> {
  let decoded = guard(|| wire::decode_read(request));
  if let Ok(ranges) = &decoded {
    let now = guard(|| store.snapshot_read_now(ranges).transpose());
    match now {
      Ok(Some(out)) => return Reply::Ready(wire::encode_read(&out)),
      Ok(None) => {}
      Err(e) => return Reply::Ready(wire::error_reply(&e)),
    }
  }
  let store = store.clone();
  Reply::Later(reply(async move {
    let out = store.snapshot_read(decoded?).await?;
    Ok(wire::encode_read(&out))
  }))
}

/// Receives a reply's bytes (docs/wire.md). Called on the engine's worker
/// thread, or on the caller's when the request fails at once: it must only
/// hand the bytes on (a napi threadsafe call, a channel send).
pub type Done = Box<dyn FnOnce(Vec<u8>) + Send>;

/// An atomic write; see docs/wire.md.
pub fn atomic_write_then(store: &Store, request: &[u8], done: Done) {
  match guard(|| wire::decode_atomic(request)) {
    Err(e) => done(wire::error_reply(&e)),
    Ok(write) => {
      store.atomic_write_then(write, encoded(done, wire::encode_atomic))
    }
  }
}

/// Several atomic writes in one transaction and one fsync (a runtime sends
/// the writes made in one tick together). The reply holds each write's own
/// reply, in order; see docs/wire.md.
pub fn atomic_write_many_then(store: &Store, request: &[u8], done: Done) {
  let decoded = match guard(|| wire::decode_atomic_many(request)) {
    Err(e) => return done(wire::error_reply(&e)),
    Ok(decoded) => decoded,
  };
  let mut replies = vec![Vec::new(); decoded.len()];
  let mut writes = Vec::with_capacity(decoded.len());
  let mut slots = Vec::with_capacity(decoded.len());
  for (i, write) in decoded.into_iter().enumerate() {
    match write {
      Ok(w) => {
        writes.push(w);
        slots.push(i);
      }
      Err(e) => replies[i] = wire::error_reply(&e),
    }
  }
  store.atomic_write_many_then(writes, move |outcomes| {
    for (i, outcome) in slots.into_iter().zip(outcomes) {
      replies[i] = match outcome {
        Ok(o) => wire::encode_atomic(o),
        Err(e) => wire::error_reply(&e),
      };
    }
    done(wire::encode_many(&replies))
  });
}

/// Waits for up to `max` due messages and leases them, for `listener` (a
/// nonzero id chosen by the caller, or 0), whose wait
/// [`cancel_dequeue`] ends.
pub fn dequeue_then(store: &Store, max: u32, listener: u32, done: Done) {
  let encode = |m: Vec<QueueMessage>| wire::encode_messages(&m);
  store.dequeue_then(listener as u64, max as usize, encoded(done, encode));
}

/// [`dequeue_then`] from named queue `queue` (UTF-8), claims lasting
/// `lease_ms` (0: the store's lease): the messages carry their metadata
/// (wire_named.rs).
pub fn dequeue_named_then(
  store: &Store,
  max: u32,
  listener: u32,
  queue: &[u8],
  lease_ms: u32,
  done: Done,
) {
  let Ok(queue) = std::str::from_utf8(queue) else {
    let e = Error::Malformed("a queue name is not UTF-8".into());
    return done(wire::error_reply(&e));
  };
  let encode = |m: Vec<QueueMessage>| crate::wire_named::encode_messages(&m);
  // 0: the store's own lease.
  let lease_ms = (lease_ms > 0).then_some(lease_ms as i64);
  store.dequeue_named_then(
    listener as u64,
    queue,
    max as usize,
    lease_ms,
    encoded(done, encode),
  );
}

/// Stores named-queue messages, inside an atomic write when the request
/// carries one (wire_named.rs).
pub fn write_named_then(store: &Store, request: &[u8], done: Done) {
  match guard(|| crate::wire_named::decode_write(request)) {
    Err(e) => done(wire::error_reply(&e)),
    Ok(write) => store
      .write_named_then(write, encoded(done, crate::wire_named::encode_write)),
  }
}

/// Ends a listener's waiting dequeue: it resolves with no messages.
pub fn cancel_dequeue(store: &Store, listener: u32) {
  store.cancel_dequeue(listener as u64);
}

/// Reports handled messages.
pub fn finish_then(store: &Store, request: &[u8], done: Done) {
  match guard(|| wire::decode_finish(request)) {
    Err(e) => done(wire::error_reply(&e)),
    Ok(results) => {
      store.finish_then(results, encoded(done, |()| wire::empty_reply()))
    }
  }
}

/// kvq's own read beyond `Deno.Kv`, for moving data (`kvq copy`): entry
/// expiries or the queue's messages not yet handled; JSON request and
/// reply (wire_inspect.rs).
pub fn inspect_then(store: &Store, request: &[u8], done: Done) {
  match guard(|| crate::wire_inspect::decode(request)) {
    Err(e) => done(wire::error_reply(&e)),
    Ok(what) => {
      store.inspect_then(what, encoded(done, crate::wire_inspect::encode))
    }
  }
}

/// The engine's answer to a request, encoded for `done`: the result's
/// bytes, or the error's reply.
fn encoded<T: 'static>(
  done: Done,
  encode: impl FnOnce(T) -> Vec<u8> + Send + 'static,
) -> Answer<T> {
  Answer::callback(move |result: Result<T>| {
    done(match result {
      Ok(value) => encode(value),
      Err(e) => wire::error_reply(&e),
    })
  })
}

/// [`atomic_write_then`] as a future, for Rust callers that await.
pub fn atomic_write(
  store: &Store,
  request: &[u8],
) -> impl Future<Output = Vec<u8>> + Send + 'static {
  let (done, reply) = later();
  atomic_write_then(store, request, done);
  reply
}

/// A [`Done`] and the future of the reply it will receive.
fn later() -> (Done, impl Future<Output = Vec<u8>> + Send + 'static) {
  let (tx, rx) = tokio::sync::oneshot::channel();
  let done: Done = Box::new(move |bytes| {
    let _ = tx.send(bytes);
  });
  let reply = async move {
    rx.await
      .unwrap_or_else(|_| wire::error_reply(&Error::Closed))
  };
  (done, reply)
}

/// Starts watching keys; on failure, the error reply to hand to JavaScript.
pub fn watch(store: &Store, request: &[u8]) -> Result<Watcher, Vec<u8>> {
  guard(|| {
    let (raw, keys) = wire::decode_watch(request)?;
    store.watch(keys, raw)
  })
  .map_err(|e| wire::error_reply(&e))
}

/// The next state of a watch (waits for a change after the first).
pub async fn watch_next(watcher: &mut Watcher) -> Vec<u8> {
  let result = CatchUnwind(watcher.next()).await;
  match result {
    Ok(Some(entries)) => wire::encode_watch(Some(&entries)),
    Ok(None) => wire::encode_watch(None),
    Err(e) => wire::error_reply(&e),
  }
}

fn guard<T>(f: impl FnOnce() -> Result<T>) -> Result<T> {
  std::panic::catch_unwind(AssertUnwindSafe(f))
    .unwrap_or_else(|p| Err(Error::from_panic(p.as_ref())))
}

async fn reply(f: impl Future<Output = Result<Vec<u8>>>) -> Vec<u8> {
  match CatchUnwind(f).await {
    Ok(bytes) => bytes,
    Err(e) => wire::error_reply(&e),
  }
}

/// Polls a future, turning a panic inside it into [`Error::Internal`].
struct CatchUnwind<F>(F);

impl<T, F: Future<Output = Result<T>>> Future for CatchUnwind<F> {
  type Output = Result<T>;

  fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
    // SAFETY: the inner future is never moved out of the pinned wrapper.
    let inner = unsafe { self.map_unchecked_mut(|s| &mut s.0) };
    match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
      Ok(poll) => poll,
      Err(p) => Poll::Ready(Err(Error::from_panic(p.as_ref()))),
    }
  }
}
