//! Counters a test or an operator can read to see what the engine did, for
//! example how many fsyncs group commit saved.

use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;

/// Live counters, updated by the worker.
#[derive(Default)]
pub struct Stats {
  synced_transactions: AtomicU64,
  unsynced_transactions: AtomicU64,
  commits: AtomicU64,
  claimed: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
  /// Write transactions committed with an fsync (one WAL sync each).
  pub synced_transactions: u64,
  /// Write transactions committed without one (claims, acknowledgements).
  pub unsynced_transactions: u64,
  /// Atomic writes that committed (checks passed).
  pub commits: u64,
  /// Messages leased to listeners.
  pub claimed: u64,
}

impl Stats {
  pub(super) fn transaction(&self, synced: bool) {
    if synced {
      self.synced_transactions.fetch_add(1, Relaxed);
    } else {
      self.unsynced_transactions.fetch_add(1, Relaxed);
    }
  }
  pub(super) fn commits(&self, n: u64) {
    self.commits.fetch_add(n, Relaxed);
  }
  pub(super) fn claimed(&self, n: u64) {
    self.claimed.fetch_add(n, Relaxed);
  }
  pub(super) fn snapshot(&self) -> StatsSnapshot {
    StatsSnapshot {
      synced_transactions: self.synced_transactions.load(Relaxed),
      unsynced_transactions: self.unsynced_transactions.load(Relaxed),
      commits: self.commits.load(Relaxed),
      claimed: self.claimed.load(Relaxed),
    }
  }
}
