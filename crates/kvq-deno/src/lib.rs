//! kvq's FFI library for Deno, loaded with `Deno.dlopen` by jsr/ffi/.
//!
//! Thin by design, like the N-API addon: each symbol turns its pointer back
//! into a handle, calls `kvq_core::ops`, and returns the engine's reply
//! bytes (docs/wire.md) behind a [`Reply`] header. All behaviour and every
//! error message live in kvq-core.
//!
//! The symbols are declared with deno_bindgen 0.9. Those that wait are
//! `non_blocking`: Deno runs them on its blocking pool and hands JavaScript
//! a Promise, so the event loop never waits. What deno_bindgen cannot
//! express is done with its plain types (see reply.rs): a byte buffer out
//! becomes a pointer to a [`Reply`], freed with `kvq_reply_free`; errors
//! are error replies; handles are raw pointers, freed with `kvq_store_free`
//! and `kvq_watch_free` once JavaScript can no longer reach them.

mod block;
mod reply;

use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::ptr;
use std::sync::Mutex;
use std::task::Poll;

use deno_bindgen::deno_bindgen;
use kvq_core::ops;
use kvq_core::Error;
use kvq_core::Store;
use kvq_core::WatchCanceller;
use kvq_core::Watcher;
use reply::guard;
use reply::guard_void;
use reply::Reply;

use crate::block::block_on;

/// A watch, behind the pointer JavaScript holds. The mutex lets `next`
/// take the watcher mutably; `canceller` ends a pending `next`.
pub struct WatchHandle {
  watcher: Mutex<Watcher>,
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

/// A UTF-8 string sent as a NUL-terminated buffer (never empty, so never a
/// null pointer).
fn text(bytes: &[u8]) -> Result<&str, Error> {
  let bytes = bytes.strip_suffix(&[0]).unwrap_or(bytes);
  std::str::from_utf8(bytes)
    .map_err(|_| Error::Malformed("a string is not UTF-8".into()))
}

/// Opens a database (`":memory:"` or a file path; options as JSON, both
/// NUL-terminated). The reply is `[0]` with the store as its handle, or an
/// error reply.
#[deno_bindgen]
fn kvq_open(path: &[u8], options: &[u8]) -> *const Reply {
  guard(|| {
    let opened = text(path).and_then(|p| Ok((p, text(options)?)));
    match opened.and_then(|(path, options)| ops::open(path, options)) {
      Ok(store) => {
        Reply::into_raw(vec![0], Box::into_raw(Box::new(store)) as *mut c_void)
      }
      Err(e) => Reply::error(&e),
    }
  })
}

/// Closes a database; idempotent. Pending dequeues resolve with no
/// messages, watches end, later calls get a closed error.
#[deno_bindgen]
fn kvq_close(store: *const Store) {
  guard_void(|| unsafe { handle(store) }.close());
}

/// Frees a store handle (closing it first). Only once no call can use it.
#[deno_bindgen]
fn kvq_store_free(store: *const Store) {
  guard_void(|| {
    if !store.is_null() {
      let store = unsafe { Box::from_raw(store as *mut Store) };
      store.close();
    }
  });
}

/// A reply the engine will give later: the future, boxed so a pointer to it
/// can wait in JavaScript until `kvq_wait` drives it.
pub struct Pending(Pin<Box<dyn Future<Output = Vec<u8>> + Send>>);

/// Starts an engine call on the calling (JavaScript) thread: one poll
/// decodes the request and hands it to the engine's worker, which costs
/// microseconds and never waits. The reply is the answer when it is already
/// there (a malformed request), else empty with a [`Pending`] handle for
/// `kvq_wait`. Starting here rather than on Deno's blocking pool takes that
/// pool's thread wake-up off the critical path.
fn start(
  future: impl Future<Output = Vec<u8>> + Send + 'static,
) -> *const Reply {
  let mut future: Pin<Box<dyn Future<Output = Vec<u8>> + Send>> =
    Box::pin(future);
  match block::poll_once(future.as_mut()) {
    Poll::Ready(bytes) => Reply::into_raw(bytes, ptr::null_mut()),
    Poll::Pending => {
      let pending = Box::into_raw(Box::new(Pending(future)));
      Reply::into_raw(Vec::new(), pending as *mut c_void)
    }
  }
}

/// A snapshot read, answered synchronously when the engine can (file
/// databases read on the calling thread, as on Node); otherwise pending.
#[deno_bindgen]
fn kvq_snapshot_read(store: *const Store, request: &[u8]) -> *const Reply {
  guard(
    || match ops::snapshot_read(unsafe { handle(store) }, request) {
      ops::Reply::Ready(bytes) => Reply::into_raw(bytes, ptr::null_mut()),
      ops::Reply::Later(future) => start(future),
    },
  )
}

/// Waits for a [`Pending`] reply, consuming (and freeing) it. The one
/// symbol that waits for the engine: Deno runs it on its blocking pool.
#[deno_bindgen(non_blocking)]
fn kvq_wait(pending: *const Pending) -> *const Reply {
  guard(|| {
    let pending = unsafe { Box::from_raw(pending as *mut Pending) };
    Reply::into_raw(block_on(pending.0), ptr::null_mut())
  })
}

/// Starts an atomic write (pending, see `start`).
#[deno_bindgen]
fn kvq_atomic_write(store: *const Store, request: &[u8]) -> *const Reply {
  guard(|| start(ops::atomic_write(unsafe { handle(store) }, request)))
}

/// Starts several atomic writes in one transaction (pending, see `start`).
#[deno_bindgen]
fn kvq_atomic_write_many(store: *const Store, request: &[u8]) -> *const Reply {
  guard(|| start(ops::atomic_write_many(unsafe { handle(store) }, request)))
}

/// Starts waiting for up to `max` due messages for `listener` (a nonzero id
/// JavaScript picks, or 0) (pending, see `start`): one crossing per batch.
#[deno_bindgen]
fn kvq_dequeue(store: *const Store, max: u32, listener: u32) -> *const Reply {
  guard(|| start(ops::dequeue(unsafe { handle(store) }, max, listener)))
}

/// Ends `listener`'s waiting dequeue: it resolves with no messages.
#[deno_bindgen]
fn kvq_cancel_dequeue(store: *const Store, listener: u32) {
  guard_void(|| ops::cancel_dequeue(unsafe { handle(store) }, listener));
}

/// Starts reporting a batch of handled messages (pending, see `start`).
#[deno_bindgen]
fn kvq_finish(store: *const Store, request: &[u8]) -> *const Reply {
  guard(|| start(ops::finish(unsafe { handle(store) }, request)))
}

/// Starts a watch. The reply is `[0]` with the watcher as its handle, or an
/// error reply.
#[deno_bindgen]
fn kvq_watch(store: *const Store, request: &[u8]) -> *const Reply {
  guard(|| match ops::watch(unsafe { handle(store) }, request) {
    Ok(watcher) => {
      let watch = WatchHandle {
        canceller: watcher.canceller(),
        watcher: Mutex::new(watcher),
      };
      Reply::into_raw(vec![0], Box::into_raw(Box::new(watch)) as *mut c_void)
    }
    Err(reply) => Reply::into_raw(reply, ptr::null_mut()),
  })
}

/// The next state of the watched keys.
#[deno_bindgen(non_blocking)]
fn kvq_watch_next(watch: *const WatchHandle) -> *const Reply {
  guard(|| {
    let watch = unsafe { handle(watch) };
    let mut watcher = watch.watcher.lock().unwrap_or_else(|p| p.into_inner());
    Reply::into_raw(block_on(ops::watch_next(&mut watcher)), ptr::null_mut())
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
