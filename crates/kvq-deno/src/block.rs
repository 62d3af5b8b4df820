//! Drives engine futures: one poll on JavaScript's thread to start a call,
//! then to completion on a thread of Deno's blocking pool.
//!
//! Nonblocking symbols run on a thread of Deno's blocking pool, so they may
//! wait. The engine's futures wait only on channels (no timers, no I/O
//! reactor), so parking this thread until a waker fires is all they need:
//! no runtime, and no second hop to another thread.

use std::future::Future;
use std::sync::Arc;
use std::task::Context;
use std::task::Poll;
use std::task::Wake;
use std::task::Waker;
use std::thread::Thread;

struct Unpark(Thread);

impl Wake for Unpark {
  fn wake(self: Arc<Self>) {
    self.0.unpark();
  }

  fn wake_by_ref(self: &Arc<Self>) {
    self.0.unpark();
  }
}

struct Noop;

impl Wake for Noop {
  fn wake(self: Arc<Self>) {}
}

thread_local! {
  // One waker per pool thread, built once: no allocation per call.
  static WAKER: Waker = Waker::from(Arc::new(Unpark(std::thread::current())));
  static NOOP: Waker = Waker::from(Arc::new(Noop));
}

/// Polls `future` once with a waker that does nothing: a later
/// [`block_on`] polls it again with a real one, which replaces it.
pub fn poll_once<F: Future + ?Sized>(
  future: std::pin::Pin<&mut F>,
) -> Poll<F::Output> {
  NOOP.with(|waker| future.poll(&mut Context::from_waker(waker)))
}

/// Polls `future` until it is ready, parking between polls.
pub fn block_on<F: Future>(future: F) -> F::Output {
  let mut future = std::pin::pin!(future);
  WAKER.with(|waker| {
    let mut cx = Context::from_waker(waker);
    loop {
      if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
        return out;
      }
      // A stale unpark token only costs one extra poll.
      std::thread::park();
    }
  })
}
