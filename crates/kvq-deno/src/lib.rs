//! kvq's FFI library for Deno, loaded with `Deno.dlopen` by jsr/ffi/.
//!
//! Thin by design, like the N-API addon: each symbol turns its pointer back
//! into a handle, calls `kvq_core::ops`, and returns the engine's reply
//! bytes (docs/wire.md) behind a [`Reply`] header. All behaviour and every
//! error message live in kvq-core.
//!
//! The symbols are declared with deno_bindgen 0.9, and none of them waits:
//! not even `kvq_open`, which opens on a thread of its own. A call that the
//! engine may answer later takes a call id and a completion callback, a
//! `Deno.UnsafeCallback.threadSafe` JavaScript function (task.rs), and
//! returns an empty reply; the answer then goes to that callback, with the
//! new handle in the reply header for open and watch. What deno_bindgen
//! cannot express is done with its plain types (see reply.rs): a byte
//! buffer out becomes a pointer to a [`Reply`], freed with
//! `kvq_reply_free`; errors are error replies; handles and the callback are
//! raw pointers; handles are freed with `kvq_store_free` and
//! `kvq_watch_free` once JavaScript can no longer reach them.
//!
//! The library is linked so that it is never unmapped (build.rs): Deno's
//! `dynamicLibrary.close()`, which JavaScript calls once the last store has
//! closed, must not pull code from under the completion thread, and a
//! later `Deno.dlopen` finds the same library, its handles still valid.

mod reply;
mod task;

use std::ffi::c_void;
use std::future::Future;
use std::ptr;
use std::sync::Arc;

use deno_bindgen::deno_bindgen;
use kvq_core::ops;
use kvq_core::Error;
use kvq_core::Store;
use kvq_core::WatchCanceller;
use kvq_core::Watcher;
use reply::guard;
use reply::guard_void;
use reply::Reply;
use task::Complete;
use tokio::sync::Mutex;

/// An open database, behind the pointer JavaScript holds.
pub struct StoreHandle {
  store: Store,
}

/// A watch, behind the pointer JavaScript holds. The mutex lets `next`
/// take the watcher mutably from a future; `canceller` ends a pending
/// `next`.
pub struct WatchHandle {
  watcher: Arc<Mutex<Watcher>>,
  canceller: WatchCanceller,
}

/// Turns a handle pointer back into a reference.
///
/// # Safety
/// `ptr` came from `kvq_open` or `kvq_watch` (as a `T`) and has not been
/// freed: jsr/ffi frees handles only once nothing can call with them.
unsafe fn handle<'a, T>(ptr: *const T) -> &'a T {
  unsafe { &*ptr }
}

/// A UTF-8 string. JavaScript sends an empty one as a zero-length view of
/// a real allocation, like an empty request, never as a null pointer.
fn text(bytes: &[u8]) -> Result<&str, Error> {
  std::str::from_utf8(bytes)
    .map_err(|_| Error::Malformed("a string is not UTF-8".into()))
}

/// The completion callback a call's late answer goes to (task.rs
/// `Complete`). Every call that may answer later names it, rather than the
/// store remembering one: JavaScript closes its callback once nothing is
/// waiting and makes a new one for later calls (jsr/ffi/transport.ts), so
/// an answer always goes to the callback that was live when its call began.
fn callback(complete: *const c_void) -> Result<Complete, Error> {
  if complete.is_null() {
    return Err(Error::Malformed("no completion callback".into()));
  }
  // SAFETY: JavaScript passes the pointer of an UnsafeCallback with the
  // signature of `Complete`, and closes it only once no answer is due.
  Ok(unsafe { std::mem::transmute::<*const c_void, Complete>(complete) })
}

/// Starts opening a database (`":memory:"` or a file path; options as
/// JSON, both UTF-8) on a thread of its own: opening migrates the file and
/// may wait for another process's write lock, which must never stall
/// Deno's event loop. Returns an empty reply; the answer goes to `complete`
/// as call `call`: `[0]` with the store as its handle, or an error reply.
/// A request that cannot even start (a string not UTF-8, no callback) gets
/// its error reply at once.
#[deno_bindgen]
fn kvq_open(
  path: &[u8],
  options: &[u8],
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  guard(|| {
    let checked = callback(complete).and_then(|complete| {
      Ok((complete, text(path)?.to_owned(), text(options)?.to_owned()))
    });
    let (complete, path, options) = match checked {
      Ok(checked) => checked,
      Err(e) => return Reply::error(&e),
    };
    ops::open_then(
      path,
      options,
      Box::new(move |opened| match opened {
        Ok(store) => {
          let handle = Box::into_raw(Box::new(StoreHandle { store }));
          if !task::deliver_handle(complete, call, vec![0], handle.cast()) {
            // Nobody will ever hold this store: close and free it.
            // SAFETY: the handle was made just above and never handed out.
            let handle = unsafe { Box::from_raw(handle) };
            handle.store.close();
          }
        }
        Err(reply) => task::deliver(complete, call, reply),
      }),
    );
    Reply::into_raw(Vec::new(), ptr::null_mut())
  })
}

/// Closes a database; idempotent. Pending dequeues resolve with no
/// messages, watches end, later calls get a closed error.
#[deno_bindgen]
fn kvq_close(store: *const StoreHandle) {
  guard_void(|| unsafe { handle(store) }.store.close());
}

/// Frees a store handle (closing it first). Only once no call can use it.
#[deno_bindgen]
fn kvq_store_free(store: *const StoreHandle) {
  guard_void(|| {
    if !store.is_null() {
      let store = unsafe { Box::from_raw(store as *mut StoreHandle) };
      store.store.close();
    }
  });
}

/// Hands a request to the engine, its answer bound for `call` at
/// `complete`; returns the empty reply that tells JavaScript "answered
/// later, by call id".
fn later(
  store: *const StoreHandle,
  call: u32,
  complete: *const c_void,
  send: impl FnOnce(&Store, ops::Done),
) -> *const Reply {
  guard(|| {
    let complete = match callback(complete) {
      Ok(complete) => complete,
      Err(e) => return Reply::error(&e),
    };
    let s = unsafe { handle(store) };
    send(
      &s.store,
      Box::new(move |bytes| task::deliver(complete, call, bytes)),
    );
    Reply::into_raw(Vec::new(), ptr::null_mut())
  })
}

/// Starts an engine future (task.rs): its reply now, or an empty reply when
/// the answer will reach `complete` under `call`.
fn start(
  future: impl Future<Output = Vec<u8>> + Send + 'static,
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  match callback(complete) {
    Ok(complete) => {
      let bytes = task::start(future, call, complete).unwrap_or_default();
      Reply::into_raw(bytes, ptr::null_mut())
    }
    Err(e) => Reply::error(&e),
  }
}

/// A snapshot read, answered synchronously when the engine can (file
/// databases read on the calling thread, as on Node); otherwise later.
#[deno_bindgen]
fn kvq_snapshot_read(
  store: *const StoreHandle,
  request: &[u8],
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  guard(|| {
    let s = unsafe { handle(store) };
    match ops::snapshot_read(&s.store, request) {
      ops::Reply::Ready(bytes) => Reply::into_raw(bytes, ptr::null_mut()),
      ops::Reply::Later(future) => start(future, call, complete),
    }
  })
}

/// Starts an atomic write.
#[deno_bindgen]
fn kvq_atomic_write(
  store: *const StoreHandle,
  request: &[u8],
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  later(store, call, complete, |s, done| {
    ops::atomic_write_then(s, request, done)
  })
}

/// Starts several atomic writes in one transaction.
#[deno_bindgen]
fn kvq_atomic_write_many(
  store: *const StoreHandle,
  request: &[u8],
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  later(store, call, complete, |s, done| {
    ops::atomic_write_many_then(s, request, done)
  })
}

/// Starts waiting for up to `max` due messages for `listener` (a nonzero id
/// JavaScript picks, or 0): one crossing per batch.
#[deno_bindgen]
fn kvq_dequeue(
  store: *const StoreHandle,
  max: u32,
  listener: u32,
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  later(store, call, complete, |s, done| {
    ops::dequeue_then(s, max, listener, done)
  })
}

/// [`kvq_dequeue`] from named queue `queue` (UTF-8), claims lasting
/// `lease_ms` (0: the store's lease); the messages carry their metadata
/// (kvq_core::wire_named).
#[deno_bindgen]
fn kvq_dequeue_named(
  store: *const StoreHandle,
  max: u32,
  listener: u32,
  queue: &[u8],
  lease_ms: u32,
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  later(store, call, complete, |s, done| {
    ops::dequeue_named_then(s, max, listener, queue, lease_ms, done)
  })
}

/// Starts storing named-queue messages, maybe inside an atomic write
/// (kvq_core::wire_named).
#[deno_bindgen]
fn kvq_write_named(
  store: *const StoreHandle,
  request: &[u8],
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  later(store, call, complete, |s, done| {
    ops::write_named_then(s, request, done)
  })
}

/// Ends `listener`'s waiting dequeue: it resolves with no messages.
#[deno_bindgen]
fn kvq_cancel_dequeue(store: *const StoreHandle, listener: u32) {
  guard_void(|| ops::cancel_dequeue(&unsafe { handle(store) }.store, listener));
}

/// Starts reporting a batch of handled messages.
#[deno_bindgen]
fn kvq_finish(
  store: *const StoreHandle,
  request: &[u8],
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  later(store, call, complete, |s, done| {
    ops::finish_then(s, request, done)
  })
}

/// Starts kvq's own read for moving data: entry expiries or the queue's
/// messages not yet handled (JSON; kvq_core::wire_inspect).
#[deno_bindgen]
fn kvq_inspect(
  store: *const StoreHandle,
  request: &[u8],
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  later(store, call, complete, |s, done| {
    ops::inspect_then(s, request, done)
  })
}

/// Starts a watch. The engine checks the request at once: a refusal is an
/// error reply now. Otherwise the reply is `[0]` with the watcher as its
/// handle, or, for a backend that starts a watch later, an empty reply and
/// the same answer later to the store's callback as call `call` (SQLite
/// starts one at once).
#[deno_bindgen]
fn kvq_watch(
  store: *const StoreHandle,
  request: &[u8],
  _call: u32,
  _complete: *const c_void,
) -> *const Reply {
  guard(|| {
    let s = unsafe { handle(store) };
    match ops::watch(&s.store, request) {
      Ok(watcher) => {
        let watch = WatchHandle {
          canceller: watcher.canceller(),
          watcher: Arc::new(Mutex::new(watcher)),
        };
        let watch = Box::into_raw(Box::new(watch)) as *mut c_void;
        Reply::into_raw(vec![0], watch)
      }
      Err(reply) => Reply::into_raw(reply, ptr::null_mut()),
    }
  })
}

/// Starts waiting for the next state of the watched keys.
#[deno_bindgen]
fn kvq_watch_next(
  watch: *const WatchHandle,
  call: u32,
  complete: *const c_void,
) -> *const Reply {
  guard(|| {
    let w = unsafe { handle(watch) };
    let watcher = w.watcher.clone();
    let next = async move { ops::watch_next(&mut *watcher.lock().await).await };
    start(next, call, complete)
  })
}

/// Ends a watch; a pending `kvq_watch_next` resolves as ended.
#[deno_bindgen]
fn kvq_watch_close(watch: *const WatchHandle) {
  guard_void(|| unsafe { handle(watch) }.canceller.cancel());
}

/// Frees a watch handle (ending it first). Only once no call can use it.
#[deno_bindgen]
fn kvq_watch_free(watch: *const WatchHandle) {
  guard_void(|| {
    if !watch.is_null() {
      let watch = unsafe { Box::from_raw(watch as *mut WatchHandle) };
      watch.canceller.cancel();
    }
  });
}

/// Frees a reply once JavaScript has copied its bytes.
#[deno_bindgen]
fn kvq_reply_free(reply: *const Reply) {
  guard_void(|| unsafe { Reply::free(reply) });
}
