//! Storage: the public [`Store`] handle and the worker thread behind it.

mod backend;
mod handle;
mod ids;
mod queue;
mod reply;
mod schema;
mod stats;
mod watch;
mod worker;

pub use backend::Durability;
pub use handle::OpenOptions;
pub use handle::Store;
pub use handle::WatchCanceller;
pub use handle::Watcher;
pub use queue::DEFAULT_BACKOFF_SCHEDULE;
pub use reply::Reply;
pub use stats::StatsSnapshot;
pub use worker::Outcome;
pub use worker::QueueMessage;

use stats::Stats;
use watch::WatchRegistry;

/// State the handles and the worker share.
#[derive(Default)]
struct Shared {
  watches: WatchRegistry,
  stats: Stats,
}
