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
  running: AtomicU64,
  set_aside: AtomicU64,
  failed_turns: AtomicU64,
  longest_turn_us: AtomicU64,
  change_polls: AtomicU64,
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
  /// Messages leased to this process's listeners right now.
  pub running: u64,
  /// Queue messages that could not be read and were set aside.
  pub set_aside: u64,
  /// Write transactions that failed (a full disk, an I/O error).
  pub failed_turns: u64,
  /// The longest a write transaction held the write lock, in microseconds.
  pub longest_turn_us: u64,
  /// Times the engine asked the storage whether another process committed.
  pub change_polls: u64,
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
  pub(super) fn running(&self, n: usize) {
    self.running.store(n as u64, Relaxed);
  }
  pub(super) fn set_aside(&self) {
    self.set_aside.fetch_add(1, Relaxed);
  }
  pub(super) fn failed_turn(&self) {
    self.failed_turns.fetch_add(1, Relaxed);
  }
  pub(super) fn turn_took(&self, us: u64) {
    self.longest_turn_us.fetch_max(us, Relaxed);
  }
  pub(super) fn change_poll(&self) {
    self.change_polls.fetch_add(1, Relaxed);
  }
  pub(super) fn snapshot(&self) -> StatsSnapshot {
    StatsSnapshot {
      synced_transactions: self.synced_transactions.load(Relaxed),
      unsynced_transactions: self.unsynced_transactions.load(Relaxed),
      commits: self.commits.load(Relaxed),
      claimed: self.claimed.load(Relaxed),
      running: self.running.load(Relaxed),
      set_aside: self.set_aside.load(Relaxed),
      failed_turns: self.failed_turns.load(Relaxed),
      longest_turn_us: self.longest_turn_us.load(Relaxed),
      change_polls: self.change_polls.load(Relaxed),
    }
  }
}
