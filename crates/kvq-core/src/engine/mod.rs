//! The engine: everything written once above the storage. The public
//! [`Store`] handle, the worker thread that schedules every job (group
//! commit, leases, sweeps, expiry, watch wake-ups), and the [`Backend`]
//! trait each storage implements.

mod backend;
mod handle;
mod inspect;
mod named;
mod reply;
mod stats;
mod turn;
mod watch;
mod worker;

pub use backend::no_named_queues;
pub use backend::write_each;
pub use backend::Applied;
pub use backend::Backend;
pub use backend::Claimed;
pub use backend::DirectReader;
pub use backend::Durability;
pub use backend::Failed;
pub use backend::LeaseKey;
pub use handle::OpenOptions;
pub use handle::Store;
pub use handle::WatchCanceller;
pub use handle::Watcher;
pub use handle::CLOSE_WAIT;
pub use inspect::Inspect;
pub use inspect::Inspected;
pub use inspect::PendingMessage;
pub use inspect::PendingPage;
pub use named::Enqueued;
pub use named::NamedAdmin;
pub use named::NamedAnswer;
pub use named::NamedApplied;
pub use named::NamedCommitted;
pub use named::NamedEnqueue;
pub use named::NamedMeta;
pub use named::NamedRow;
pub use named::NamedWrite;
pub use named::Verdict;
pub use named::LAPSED;
pub use reply::Reply;
pub use stats::StatsSnapshot;
pub use worker::Outcome;
pub use worker::QueueMessage;
pub use worker::MAX_TURN_WRITES;

use std::sync::Mutex;

use stats::Stats;
use watch::WatchRegistry;

use crate::error::Error;

/// State the handles and the worker share.
#[derive(Default)]
struct Shared {
  watches: WatchRegistry,
  stats: Stats,
  /// Set when the worker stopped on a panic or a fatal storage error:
  /// every later call gets this error.
  failure: Mutex<Option<Error>>,
}

impl Shared {
  fn fail(&self, error: Error) {
    let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
    failure.get_or_insert(error);
    drop(failure);
    self.watches.close();
  }

  /// The error a call on a stopped store gets: the failure, or closed.
  fn refusal(&self) -> Error {
    let failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
    failure
      .as_ref()
      .map_or(Error::Closed, |e| e.clone_for_reply())
  }
}
