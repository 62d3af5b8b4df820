//! What the engine tells its backend about watches (`Backend::watch_keys`):
//! the distinct key sets watched now, handed over as watches begin and
//! end, so that a backend that must ask a server to follow keys (KV
//! Connect) follows exactly those. The real SQLite backend, hooked
//! (kvq_tests::hooked) to record the calls.

mod common;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use kvq_core::OpenOptions;
use kvq_core::Store;
use kvq_tests::hooked::open_hooked;
use kvq_tests::hooked::Hooks;
use kvq_tests::key;

/// Records every key-set list the engine hands over, in order.
#[derive(Default)]
struct Following {
  calls: Mutex<Vec<Vec<Vec<Vec<u8>>>>>,
}

impl Hooks for Following {
  fn watch_keys(&self, key_sets: &[Vec<Vec<u8>>]) {
    let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
    calls.push(key_sets.to_vec());
  }
}

impl Following {
  fn last(&self) -> Option<Vec<Vec<Vec<u8>>>> {
    self
      .calls
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .last()
      .cloned()
  }
  fn is_empty(&self) -> bool {
    self
      .calls
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .is_empty()
  }
}

type Calls = Arc<Following>;

fn open_following(path: &str) -> (Store, Calls) {
  let calls = Calls::default();
  let store = open_hooked(path, calls.clone(), OpenOptions::default());
  (store, calls)
}

/// Waits until the last list handed over is `expected`.
async fn followed(calls: &Calls, expected: Vec<Vec<Vec<u8>>>) {
  let started = Instant::now();
  loop {
    let last = calls.last();
    if last.as_ref() == Some(&expected) {
      return;
    }
    assert!(
      started.elapsed() < Duration::from_secs(2),
      "the backend follows {last:?}, not {expected:?}"
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
  }
}

#[tokio::test]
async fn the_backend_follows_exactly_the_watched_key_sets() {
  let (_dir, path) = common::temp_db();
  let (store, calls) = open_following(&path);
  let (a, b, c) = (key(&["a"]), key(&["b"]), key(&["c"]));
  let first = store
    .watch(vec![b.clone(), a.clone()], false)
    .expect("watch");
  followed(&calls, vec![vec![a.clone(), b.clone()]]).await;
  let second = store.watch(vec![c.clone()], false).expect("watch");
  // The same keys as the first watch: followed once.
  let third = store
    .watch(vec![a.clone(), b.clone()], false)
    .expect("watch");
  let both = vec![vec![a.clone(), b.clone()], vec![c.clone()]];
  followed(&calls, both.clone()).await;
  drop(first);
  followed(&calls, both).await;
  // A watch ends when dropped...
  drop(third);
  followed(&calls, vec![vec![c.clone()]]).await;
  // ... or when cancelled, though its handle is still alive.
  second.canceller().cancel();
  followed(&calls, Vec::new()).await;
  store.close();
}

#[tokio::test]
async fn a_store_without_watches_hands_over_nothing() {
  let (_dir, path) = common::temp_db();
  let (store, calls) = open_following(&path);
  kvq_tests::commit(
    &store,
    kvq_tests::write(vec![kvq_tests::set(
      key(&["k"]),
      kvq_core::KvValue::Bytes(vec![1]),
    )]),
  )
  .await;
  tokio::time::sleep(Duration::from_millis(50)).await;
  assert!(calls.is_empty());
  store.close();
}
