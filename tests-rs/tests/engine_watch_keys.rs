//! What the engine tells its backend about watches (`Backend::watch_keys`):
//! the distinct key sets watched now, handed over as watches begin and
//! end, so that a backend that must ask a server to follow keys (KV
//! Connect) follows exactly those. The real SQLite backend, wrapped to
//! record the calls.

mod common;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use std::time::Instant;

use kvq_core::engine::Applied;
use kvq_core::engine::Backend;
use kvq_core::engine::Claimed;
use kvq_core::engine::DirectReader;
use kvq_core::engine::Failed;
use kvq_core::engine::LeaseKey;
use kvq_core::AtomicWrite;
use kvq_core::Durability;
use kvq_core::Error;
use kvq_core::OpenOptions;
use kvq_core::ReadRange;
use kvq_core::ReadRangeOutput;
use kvq_core::Store;
use kvq_tests::key;

/// Every key-set list the engine handed over, in order.
type Calls = Arc<Mutex<Vec<Vec<Vec<Vec<u8>>>>>>;

/// The SQLite backend, recording `watch_keys`.
struct Following {
  inner: kvq_core::sqlite::SqliteBackend,
  calls: Calls,
}

impl Backend for Following {
  fn read(
    &mut self,
    reads: &[&[ReadRange]],
    now: i64,
  ) -> kvq_core::Result<Vec<kvq_core::Result<Vec<ReadRangeOutput>>>> {
    self.inner.read(reads, now)
  }
  fn begin(&mut self, synced: bool) -> kvq_core::Result<()> {
    self.inner.begin(synced)
  }
  fn commit(&mut self) -> kvq_core::Result<()> {
    self.inner.commit()
  }
  fn rollback(&mut self) {
    self.inner.rollback()
  }
  fn write(
    &mut self,
    write: &AtomicWrite,
    now: i64,
  ) -> kvq_core::Result<Applied> {
    self.inner.write(write, now)
  }
  fn claim(
    &mut self,
    now: i64,
    deadline: i64,
    max: usize,
  ) -> kvq_core::Result<Vec<Claimed>> {
    self.inner.claim(now, deadline, max)
  }
  fn renew(
    &mut self,
    leases: &[LeaseKey],
    deadline: i64,
  ) -> kvq_core::Result<Vec<bool>> {
    self.inner.renew(leases, deadline)
  }
  fn acknowledge(&mut self, lease: &LeaseKey) -> kvq_core::Result<bool> {
    self.inner.acknowledge(lease)
  }
  fn release(&mut self, lease: &LeaseKey, now: i64) -> kvq_core::Result<bool> {
    self.inner.release(lease, now)
  }
  fn fail(&mut self, lease: &LeaseKey, now: i64) -> kvq_core::Result<Failed> {
    self.inner.fail(lease, now)
  }
  fn collect_expired(&mut self, now: i64) -> kvq_core::Result<Vec<Vec<u8>>> {
    self.inner.collect_expired(now)
  }
  fn lapsed(&mut self, now: i64) -> kvq_core::Result<Vec<LeaseKey>> {
    self.inner.lapsed(now)
  }
  fn earliest_ready(&mut self) -> kvq_core::Result<Option<i64>> {
    self.inner.earliest_ready()
  }
  fn earliest_expiry(&mut self) -> kvq_core::Result<Option<i64>> {
    self.inner.earliest_expiry()
  }
  fn change_token(&mut self) -> kvq_core::Result<i64> {
    self.inner.change_token()
  }
  fn watch_keys(&mut self, key_sets: &[Vec<Vec<u8>>]) {
    let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
    calls.push(key_sets.to_vec());
  }
  fn is_busy(&self, error: &Error) -> bool {
    self.inner.is_busy(error)
  }
  fn close(&mut self) -> kvq_core::Result<()> {
    self.inner.close()
  }
}

fn open_following(path: &str) -> (Store, Calls) {
  let (inner, reader) =
    kvq_core::sqlite::open(Some(path), Durability::Full).expect("open");
  let calls = Calls::default();
  let backend = Following {
    inner,
    calls: calls.clone(),
  };
  let reader = reader.map(|r| Arc::new(r) as Arc<dyn DirectReader>);
  let store =
    Store::with_backend(Box::new(backend), reader, OpenOptions::default())
      .expect("store");
  (store, calls)
}

/// Waits until the last list handed over is `expected`.
async fn followed(calls: &Calls, expected: Vec<Vec<Vec<u8>>>) {
  let started = Instant::now();
  loop {
    let last = calls
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .last()
      .cloned();
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
  assert!(calls.lock().unwrap_or_else(|p| p.into_inner()).is_empty());
  store.close();
}
