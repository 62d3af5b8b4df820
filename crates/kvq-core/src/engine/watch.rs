//! Watchers: who waits on which keys, and how they learn of a change.
//!
//! A change only marks a watcher dirty and wakes it; the watcher then reads
//! its keys again and compares versionstamps. So a burst of writes
//! collapses into the latest state (Deno's pull-based coalescing), and a
//! change made by another process, which tells us only "something changed",
//! is handled by waking every watcher.
//!
//! The registry also knows which keys are watched at all; the worker hands
//! that set to the backend whenever it changes ([`WatchRegistry::take_key_sets`],
//! `Backend::watch_keys`), so a backend that must ask its server to be told
//! of other processes' writes (KV Connect) asks about exactly those keys.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::Weak;

use tokio::sync::Notify;

/// One watcher's wake-up state, shared between the worker and the watcher.
pub struct WatchSlot {
  /// The encoded keys watched.
  pub keys: Vec<Vec<u8>>,
  /// Bumped on every change that may concern the keys.
  pub generation: AtomicU64,
  /// Wakes the watcher; a wake-up with no waiter is kept as a permit.
  pub notify: Notify,
  /// Set when the watcher's consumer gave up (a cancelled stream).
  pub cancelled: AtomicBool,
  /// Set when this process wrote one of the keys, changed or not: what a
  /// raw watch reports. A wake-up from another process's commit does not
  /// set it, since it may not concern these keys at all.
  pub written: AtomicBool,
}

impl WatchSlot {
  /// Ends the watch: a pending or later `next()` returns "ended".
  pub fn cancel(&self) {
    self.cancelled.store(true, Ordering::SeqCst);
    self.notify.notify_one();
  }
}

/// Every live watcher of one store.
#[derive(Default)]
pub struct WatchRegistry {
  slots: Mutex<Vec<Weak<WatchSlot>>>,
  closed: AtomicBool,
  /// Set when a watcher began or ended since the worker last took the
  /// key sets.
  changed: AtomicBool,
}

impl WatchRegistry {
  /// Registers a watcher of `keys`.
  pub fn register(&self, keys: Vec<Vec<u8>>) -> Arc<WatchSlot> {
    let slot = Arc::new(WatchSlot {
      keys,
      generation: AtomicU64::new(0),
      notify: Notify::new(),
      cancelled: AtomicBool::new(false),
      written: AtomicBool::new(false),
    });
    let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
    slots.retain(|w| w.strong_count() > 0);
    slots.push(Arc::downgrade(&slot));
    self.changed.store(true, Ordering::SeqCst);
    slot
  }

  /// Removes a watcher that ended (dropped or cancelled). Idempotent.
  pub fn unregister(&self, slot: &Arc<WatchSlot>) {
    let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
    let before = slots.len();
    slots.retain(|w| {
      w.strong_count() > 0 && !std::ptr::eq(w.as_ptr(), Arc::as_ptr(slot))
    });
    if slots.len() != before {
      self.changed.store(true, Ordering::SeqCst);
    }
  }

  /// The distinct key sets watched now (each sorted, without repeats),
  /// if a watcher began or ended since the last call; `None` when nothing
  /// changed. An empty list means no watcher is left.
  pub fn take_key_sets(&self) -> Option<Vec<Vec<Vec<u8>>>> {
    if !self.changed.swap(false, Ordering::SeqCst) {
      return None;
    }
    let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
    let mut sets: Vec<Vec<Vec<u8>>> = slots
      .iter()
      .filter_map(Weak::upgrade)
      .filter(|s| !s.cancelled.load(Ordering::SeqCst))
      .map(|s| {
        let mut keys = s.keys.clone();
        keys.sort();
        keys.dedup();
        keys
      })
      .collect();
    sets.sort();
    sets.dedup();
    Some(sets)
  }

  /// Whether any watcher is alive (the worker then watches for other
  /// processes' writes).
  pub fn is_empty(&self) -> bool {
    let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
    slots.iter().all(|w| w.strong_count() == 0)
  }

  /// Wakes the watchers of any of `keys`.
  pub fn keys_changed(&self, keys: &[Vec<u8>]) {
    if keys.is_empty() {
      return;
    }
    self.wake(|slot| {
      let hit = slot.keys.iter().any(|k| keys.contains(k));
      if hit {
        slot.written.store(true, Ordering::SeqCst);
      }
      hit
    });
  }

  /// Wakes every watcher: something changed, we do not know what.
  pub fn all_changed(&self) {
    self.wake(|_| true);
  }

  /// Marks the store closed and wakes every watcher so it can end.
  pub fn close(&self) {
    self.closed.store(true, Ordering::SeqCst);
    self.all_changed();
  }

  /// Whether the store has been closed.
  pub fn is_closed(&self) -> bool {
    self.closed.load(Ordering::SeqCst)
  }

  fn wake(&self, concerns: impl Fn(&WatchSlot) -> bool) {
    // Wakers run arbitrary code (a binding may poll the watcher's future
    // right there and hand its result to JavaScript), so none runs while
    // the registry is locked: a thread registering a watch meanwhile would
    // otherwise wait on it.
    let woken: Vec<Arc<WatchSlot>> = {
      let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
      slots
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|s| concerns(s))
        .collect()
    };
    for slot in woken {
      slot.generation.fetch_add(1, Ordering::SeqCst);
      slot.notify.notify_one();
    }
  }
}
