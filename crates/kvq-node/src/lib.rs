//! kvq's N-API addon for Node.js and Bun.
//!
//! Thin by design: each export looks up its handle, calls `kvq_core::ops`,
//! and returns the engine's reply bytes (docs/wire.md). All behaviour, and
//! every error message, lives in kvq-core; the TypeScript layer turns error
//! replies into JavaScript errors. Futures run on napi-rs's tokio runtime.
//!
//! Requests come in as `Uint8ArraySlice`: borrowed for the call and never
//! kept (every op decodes its request before it returns), so napi need not
//! create, and later delete, a reference to each one.

use std::sync::Arc;

use kvq_core::ops;
use kvq_core::Store;
use kvq_core::WatchCanceller;
use kvq_core::Watcher;
use napi::bindgen_prelude::Either;
use napi::bindgen_prelude::Object;
use napi::bindgen_prelude::PromiseRaw;
use napi::bindgen_prelude::ToNapiValue;
use napi::bindgen_prelude::TypeName;
use napi::bindgen_prelude::Uint8ArraySlice;
use napi::sys;
use napi::Env;
use napi::Result;
use napi::ValueType;
use napi_derive::napi;
use tokio::sync::Mutex;

/// An open database.
#[napi]
pub struct NativeStore {
  store: Store,
}

/// A watch on up to 10 keys.
#[napi]
pub struct NativeWatcher {
  watcher: Arc<Mutex<Watcher>>,
  canceller: WatchCanceller,
}

/// The engine's reply bytes, handed to JavaScript as a `Uint8Array` that V8
/// owns. Replies are small; copying them is cheaper than lending the `Vec`
/// as an external buffer, which V8 must track and finalize on a GC thread
/// (a tenth of a Node process's time in a profile of concurrent gets).
pub struct Bytes(Vec<u8>);

impl TypeName for Bytes {
  fn type_name() -> &'static str {
    "Uint8Array"
  }

  fn value_type() -> ValueType {
    ValueType::Object
  }
}

impl ToNapiValue for Bytes {
  unsafe fn to_napi_value(
    env: sys::napi_env,
    val: Self,
  ) -> Result<sys::napi_value> {
    let array = Uint8ArraySlice::copy_from(&Env::from_raw(env), &val.0)?;
    // SAFETY: `env` is the live environment napi handed to this call.
    unsafe { ToNapiValue::to_napi_value(env, array) }
  }
}

/// Opens a database (`":memory:"` or a file path; options as JSON) on a
/// thread of its own: opening migrates the file and may wait for another
/// process's write lock, which must never stall the event loop. The promise
/// resolves with the store, or with the engine's error reply.
#[napi(ts_return_type = "Promise<NativeStore | Uint8Array>")]
pub fn open(env: &Env, path: String, options: String) -> Result<Object<'_>> {
  let (deferred, promise) = env.create_deferred::<Opened, OpenSettle>()?;
  ops::open_then(
    path,
    options,
    Box::new(move |opened| {
      deferred.resolve(Box::new(move |_| {
        Ok(match opened {
          Ok(store) => Either::A(NativeStore { store }),
          Err(reply) => Either::B(Bytes(reply)),
        })
      }));
    }),
  );
  Ok(promise)
}

type Opened = Either<NativeStore, Bytes>;
type OpenSettle = Box<dyn FnOnce(Env) -> Result<Opened>>;

/// A JavaScript promise and the [`ops::Done`] that settles it. The engine
/// calls `Done` on its worker thread; napi's threadsafe call brings the
/// bytes to the JavaScript thread: one hop, no runtime in between.
fn promise(env: &Env) -> Result<(ops::Done, Object<'_>)> {
  let (deferred, promise) = env.create_deferred::<Bytes, Settle>()?;
  let done: ops::Done = Box::new(move |bytes: Vec<u8>| {
    deferred.resolve(Box::new(move |_| Ok(Bytes(bytes))));
  });
  Ok((done, promise))
}

type Settle = Box<dyn FnOnce(Env) -> Result<Bytes>>;

fn spawn<'env>(
  env: &'env Env,
  reply: impl std::future::Future<Output = Vec<u8>> + Send + 'static,
) -> Result<PromiseRaw<'env, Bytes>> {
  env.spawn_future(async move { Ok(Bytes(reply.await)) })
}

#[napi]
impl NativeStore {
  /// Closes the database; idempotent.
  #[napi]
  pub fn close(&self) {
    self.store.close();
  }

  /// A snapshot read: the reply itself when answered at once (file
  /// databases), else a promise of it.
  #[napi(ts_return_type = "Uint8Array | Promise<Uint8Array>")]
  pub fn snapshot_read<'env>(
    &self,
    env: &'env Env,
    request: Uint8ArraySlice,
  ) -> Result<Either<Bytes, PromiseRaw<'env, Bytes>>> {
    Ok(match ops::snapshot_read(&self.store, &request) {
      ops::Reply::Ready(bytes) => Either::A(Bytes(bytes)),
      ops::Reply::Later(reply) => Either::B(spawn(env, reply)?),
    })
  }

  /// An atomic write.
  #[napi(ts_return_type = "Promise<Uint8Array>")]
  pub fn atomic_write<'env>(
    &self,
    env: &'env Env,
    request: Uint8ArraySlice,
  ) -> Result<Object<'env>> {
    let (done, promise) = promise(env)?;
    ops::atomic_write_then(&self.store, &request, done);
    Ok(promise)
  }

  /// Several atomic writes in one transaction (docs/wire.md).
  #[napi(ts_return_type = "Promise<Uint8Array>")]
  pub fn atomic_write_many<'env>(
    &self,
    env: &'env Env,
    request: Uint8ArraySlice,
  ) -> Result<Object<'env>> {
    let (done, promise) = promise(env)?;
    ops::atomic_write_many_then(&self.store, &request, done);
    Ok(promise)
  }

  /// Waits for up to `max` due messages and leases them, for a listener
  /// (a nonzero id; 0 or absent: anonymous).
  #[napi(ts_return_type = "Promise<Uint8Array>")]
  pub fn dequeue<'env>(
    &self,
    env: &'env Env,
    max: u32,
    listener: Option<u32>,
  ) -> Result<Object<'env>> {
    let (done, promise) = promise(env)?;
    ops::dequeue_then(&self.store, max, listener.unwrap_or(0), done);
    Ok(promise)
  }

  /// [`Self::dequeue`] from a named queue (its name as UTF-8 bytes),
  /// claims lasting `lease_ms` (0: the store's lease); the messages carry
  /// their metadata (kvq_core::wire_named).
  #[napi(ts_return_type = "Promise<Uint8Array>")]
  pub fn dequeue_named<'env>(
    &self,
    env: &'env Env,
    max: u32,
    listener: u32,
    queue: Uint8ArraySlice,
    lease_ms: u32,
  ) -> Result<Object<'env>> {
    let (done, promise) = promise(env)?;
    ops::dequeue_named_then(&self.store, max, listener, &queue, lease_ms, done);
    Ok(promise)
  }

  /// Stores named-queue messages, maybe inside an atomic write
  /// (kvq_core::wire_named).
  #[napi(ts_return_type = "Promise<Uint8Array>")]
  pub fn write_named<'env>(
    &self,
    env: &'env Env,
    request: Uint8ArraySlice,
  ) -> Result<Object<'env>> {
    let (done, promise) = promise(env)?;
    ops::write_named_then(&self.store, &request, done);
    Ok(promise)
  }

  /// Ends a listener's waiting dequeue: it resolves with no messages.
  #[napi]
  pub fn cancel_dequeue(&self, listener: u32) {
    ops::cancel_dequeue(&self.store, listener);
  }

  /// Reports handled messages.
  #[napi(ts_return_type = "Promise<Uint8Array>")]
  pub fn finish<'env>(
    &self,
    env: &'env Env,
    request: Uint8ArraySlice,
  ) -> Result<Object<'env>> {
    let (done, promise) = promise(env)?;
    ops::finish_then(&self.store, &request, done);
    Ok(promise)
  }

  /// kvq's own read for moving data: entry expiries or the queue's
  /// messages not yet handled (JSON; kvq_core::wire_inspect).
  #[napi(ts_return_type = "Promise<Uint8Array>")]
  pub fn inspect<'env>(
    &self,
    env: &'env Env,
    request: Uint8ArraySlice,
  ) -> Result<Object<'env>> {
    let (done, promise) = promise(env)?;
    ops::inspect_then(&self.store, &request, done);
    Ok(promise)
  }

  /// Starts a watch; returns the watcher, or the engine's error reply.
  #[napi(ts_return_type = "NativeWatcher | Uint8Array")]
  pub fn watch(
    &self,
    request: Uint8ArraySlice,
  ) -> Either<NativeWatcher, Bytes> {
    match ops::watch(&self.store, &request) {
      Ok(watcher) => Either::A(NativeWatcher {
        canceller: watcher.canceller(),
        watcher: Arc::new(Mutex::new(watcher)),
      }),
      Err(reply) => Either::B(Bytes(reply)),
    }
  }
}

#[napi]
impl NativeWatcher {
  /// The next state of the watched keys.
  #[napi(ts_return_type = "Promise<Uint8Array>")]
  pub fn next<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Bytes>> {
    let watcher = self.watcher.clone();
    spawn(env, async move {
      ops::watch_next(&mut *watcher.lock().await).await
    })
  }

  /// Ends the watch; a pending `next()` resolves as ended.
  #[napi]
  pub fn close(&self) {
    self.canceller.cancel();
  }
}
