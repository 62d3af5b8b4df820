//! How the worker answers a request: through a channel the caller awaits,
//! or by calling a function the caller left.
//!
//! The callback form lets a binding settle a JavaScript promise straight
//! from the worker thread (napi's threadsafe call), one thread hop instead
//! of two. A callback runs on the worker thread, so it must only hand the
//! result on: no blocking, no heavy work.

use tokio::sync::oneshot;

use crate::error::Result;

/// Where the worker sends one request's result.
pub enum Reply<T> {
  /// A channel whose receiver the caller awaits.
  Channel(oneshot::Sender<Result<T>>),
  /// A function the worker calls with the result.
  Callback(Box<dyn FnOnce(Result<T>) + Send>),
}

impl<T> Reply<T> {
  /// Delivers the result; gives it back if nobody is listening any more.
  pub fn send(self, value: Result<T>) -> std::result::Result<(), Result<T>> {
    match self {
      Reply::Channel(tx) => tx.send(value),
      Reply::Callback(f) => {
        // A panicking callback must not take the worker thread down.
        let call = std::panic::AssertUnwindSafe(move || f(value));
        let _ = std::panic::catch_unwind(call);
        Ok(())
      }
    }
  }

  /// Whether the caller stopped waiting (a dropped receiver). A callback
  /// is always wanted.
  pub fn is_closed(&self) -> bool {
    match self {
      Reply::Channel(tx) => tx.is_closed(),
      Reply::Callback(_) => false,
    }
  }
}

impl<T> From<oneshot::Sender<Result<T>>> for Reply<T> {
  fn from(tx: oneshot::Sender<Result<T>>) -> Self {
    Reply::Channel(tx)
  }
}
