//! How the worker answers a request: through a channel the caller awaits,
//! or by calling a function the caller left.
//!
//! The callback form lets a binding settle a JavaScript promise straight
//! from the worker thread (napi's threadsafe call), one thread hop instead
//! of two. A callback runs on the worker thread, so it must only hand the
//! result on: no blocking, no heavy work.
//!
//! A reply is always answered: one dropped unanswered (a turn that failed
//! early, a panic) answers itself with an error, so no JavaScript promise
//! is left pending forever.

use tokio::sync::oneshot;

use crate::error::Error;
use crate::error::Result;

/// A function that receives one request's result.
type Callback<T> = Box<dyn FnOnce(Result<T>) + Send>;

/// Where the worker sends one request's result.
pub struct Reply<T>(Option<To<T>>);

enum To<T> {
  Channel(oneshot::Sender<Result<T>>),
  Callback(Callback<T>),
}

impl<T> Reply<T> {
  /// A reply through a channel whose receiver the caller awaits.
  pub fn channel(tx: oneshot::Sender<Result<T>>) -> Self {
    Reply(Some(To::Channel(tx)))
  }

  /// A reply by calling `f` (on the worker thread).
  pub fn callback(f: impl FnOnce(Result<T>) + Send + 'static) -> Self {
    Reply(Some(To::Callback(Box::new(f))))
  }

  /// Delivers the result; gives it back if nobody is listening any more.
  pub fn send(
    mut self,
    value: Result<T>,
  ) -> std::result::Result<(), Result<T>> {
    match self.0.take() {
      Some(To::Channel(tx)) => tx.send(value),
      Some(To::Callback(f)) => {
        call(f, value);
        Ok(())
      }
      None => Err(value),
    }
  }

  /// Whether the caller stopped waiting (a dropped receiver). A callback
  /// is always wanted.
  pub fn is_closed(&self) -> bool {
    match &self.0 {
      Some(To::Channel(tx)) => tx.is_closed(),
      Some(To::Callback(_)) => false,
      None => true,
    }
  }
}

impl<T> Drop for Reply<T> {
  fn drop(&mut self) {
    let error =
      || Err(Error::Internal("the request was dropped unanswered".into()));
    match self.0.take() {
      Some(To::Channel(tx)) => drop(tx.send(error())),
      Some(To::Callback(f)) => call(f, error()),
      None => {}
    }
  }
}

/// Calls a callback; a panic in it must not take the worker thread down.
fn call<T>(f: Callback<T>, value: Result<T>) {
  let _ =
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || f(value)));
}
