//! Faults injected under the engine: the real SQLite backend, hooked
//! (kvq_tests::hooked) so a test can make its commits fail (a full disk)
//! or a write panic, and what
//! the engine must do about each. Also: what `close()` leaves on disk, and
//! what it does with messages still held.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use kvq_core::Error;
use kvq_core::OpenOptions;
use kvq_core::Outcome;
use kvq_core::ReadRange;
use kvq_core::Store;
use kvq_tests::commit;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::hooked::open_hooked;
use kvq_tests::hooked::Hooks;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::v8_string;
use kvq_tests::write;

/// Switches for the faults the hooked SQLite backend injects.
#[derive(Default)]
struct Faults {
  /// Every commit fails as SQLite does on a full disk.
  disk_full: AtomicBool,
  /// The n-th atomic write from now panics (0: none).
  panic_at_write: AtomicUsize,
}

fn disk_full() -> Error {
  Error::Storage("database or disk is full".into())
}

impl Hooks for Faults {
  fn commit(&self) -> kvq_core::Result<()> {
    match self.disk_full.load(SeqCst) {
      true => Err(disk_full()),
      false => Ok(()),
    }
  }
  fn write(&self) {
    let n = self.panic_at_write.load(SeqCst);
    if n == 1 {
      panic!("injected panic in a write");
    }
    if n > 1 {
      self.panic_at_write.store(n - 1, SeqCst);
    }
  }
}

/// A store on `path` over the SQLite backend with faults, and its switches.
fn open_faulty(path: &str, lease_ms: u64) -> (Store, Arc<Faults>) {
  let faults = Arc::new(Faults::default());
  let options = OpenOptions {
    lease: Duration::from_millis(lease_ms),
    ..OpenOptions::default()
  };
  (open_hooked(path, faults.clone(), options), faults)
}

async fn fill(store: &Store, n: usize) {
  let messages = (0..n)
    .map(|i| enqueue(v8_string(&format!("m{i}")), 0, Vec::new(), None))
    .collect();
  commit(store, enqueues(messages)).await;
}

/// Dequeues and handles messages until every one of `n` was seen, failing
/// after `within`. Returns how many deliveries it took.
async fn handle_all(store: &Store, n: usize, within: Duration) -> usize {
  let started = Instant::now();
  let mut seen = std::collections::HashSet::new();
  let mut deliveries = 0;
  while seen.len() < n {
    assert!(
      started.elapsed() < within,
      "only {} of {n} came back",
      seen.len()
    );
    let batch =
      kvq_tests::dequeue_within(store, 64, Duration::from_millis(500)).await;
    deliveries += batch.len();
    let mut results = Vec::new();
    for m in batch {
      seen.insert(kvq_tests::parse_v8_string(&m.payload));
      results.push((m.token, Outcome::Handled));
    }
    store.finish(results).await.expect("finish");
  }
  deliveries
}

#[tokio::test]
async fn an_outcome_that_cannot_be_recorded_is_kept_until_it_can() {
  let (_dir, path) = common::temp_db();
  let (store, faults) = open_faulty(&path, 30_000);
  fill(&store, 20).await;
  let batch =
    kvq_tests::dequeue_within(&store, 20, Duration::from_secs(2)).await;
  assert_eq!(batch.len(), 20);
  faults.disk_full.store(true, SeqCst);
  let results = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
  let error = store.finish(results).await.expect_err("the disk is full");
  assert!(error.to_string().contains("full"), "{error}");
  // No longer held (never renewed again), not yet recorded.
  assert_eq!(store.stats().running, 0);
  faults.disk_full.store(false, SeqCst);
  // The engine records the outcomes by itself once the disk has room.
  let conn = common::inspect(&path);
  let started = Instant::now();
  while common::queue_counts(&conn) != (0, 0) {
    assert!(started.elapsed() < Duration::from_secs(5), "never recorded");
    tokio::time::sleep(Duration::from_millis(20)).await;
  }
  assert!(store.stats().failed_turns >= 1);
  store.close();
}

#[tokio::test]
async fn a_message_whose_outcome_is_lost_comes_back_after_its_lease() {
  let (_dir, path) = common::temp_db();
  let (store, faults) = open_faulty(&path, 300);
  fill(&store, 50).await;
  let batch =
    kvq_tests::dequeue_within(&store, 50, Duration::from_secs(2)).await;
  assert_eq!(batch.len(), 50);
  // The disk is full for longer than the lease: nothing can be recorded,
  // nothing is renewed, so the leases lapse.
  faults.disk_full.store(true, SeqCst);
  let results = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
  assert!(store.finish(results).await.is_err());
  tokio::time::sleep(Duration::from_millis(600)).await;
  assert_eq!(store.stats().running, 0);
  faults.disk_full.store(false, SeqCst);
  // Room again: every message ends handled (the late outcome, or a second
  // delivery of a lapsed lease), and nothing is left leased or queued.
  let conn = common::inspect(&path);
  let started = Instant::now();
  loop {
    let counts = common::queue_counts(&conn);
    if counts == (0, 0) {
      break;
    }
    assert!(
      started.elapsed() < Duration::from_secs(10),
      "left: {counts:?}"
    );
    let again =
      kvq_tests::dequeue_within(&store, 64, Duration::from_millis(200)).await;
    let results = again.iter().map(|m| (m.token, Outcome::Handled)).collect();
    store.finish(results).await.expect("finish");
  }
  assert_eq!(store.stats().running, 0);
  store.close();
}

#[tokio::test]
async fn a_panic_in_the_engine_closes_the_store_with_its_error() {
  let (_dir, path) = common::temp_db();
  let (store, faults) = open_faulty(&path, 30_000);
  commit(&store, write(vec![set(key(&["a"]), v8(1))])).await;
  faults.panic_at_write.store(1, SeqCst);
  let failed = store
    .atomic_write(write(vec![set(key(&["b"]), v8(2))]))
    .await
    .expect_err("the write's turn panicked");
  // Every later call gets the same clear error, reads included.
  let later = store
    .atomic_write(write(vec![set(key(&["c"]), v8(3))]))
    .await
    .expect_err("the engine stopped");
  assert_eq!(later.code(), "KVQ_FAILED", "{later}");
  assert!(later.to_string().contains("injected panic"), "{later}");
  let read = store
    .snapshot_read(vec![kvq_tests_range(&key(&["a"]))])
    .await
    .expect_err("reads fail too");
  assert_eq!(read.code(), "KVQ_FAILED");
  let dequeue = store.dequeue(1).await.expect_err("so do dequeues");
  assert_eq!(dequeue.code(), "KVQ_FAILED");
  println!("the panicked write got: {failed}");
  store.close();
  // What was committed before the panic is in the file.
  let conn = common::inspect(&path);
  let n: i64 = conn
    .query_row("select count(*) from kv", [], |r| r.get(0))
    .expect("count");
  assert_eq!(n, 1);
}

#[tokio::test]
async fn close_leaves_a_whole_file_and_no_wal() {
  for round in 0..3 {
    let (dir, path) = common::temp_db();
    let store = kvq_tests::open(&path, 30_000);
    // Un-awaited writes in flight when close() is called.
    let mut pending = Vec::new();
    for i in 0..200 {
      let store = store.clone();
      let k = key(&["k", &i.to_string()]);
      pending.push(tokio::spawn(async move {
        store.atomic_write(write(vec![set(k, v8(i))])).await
      }));
    }
    tokio::task::yield_now().await;
    store.close();
    // Right after close(): a copy of the file alone is a whole database.
    let copy = dir.path().join("copy.sqlite3");
    std::fs::copy(&path, &copy).expect("copy");
    assert!(
      !std::path::Path::new(&format!("{path}-wal")).exists(),
      "round {round}: the WAL is checkpointed and removed"
    );
    let conn = rusqlite::Connection::open(&copy).expect("open the copy");
    let check: String = conn
      .query_row("pragma integrity_check", [], |r| r.get(0))
      .expect("integrity");
    assert_eq!(check, "ok");
    let n: i64 = conn
      .query_row("select count(*) from kv", [], |r| r.get(0))
      .expect("count");
    let mut ok = 0;
    for p in pending {
      if p.await.expect("join").is_ok() {
        ok += 1;
      }
    }
    // Every write that was acknowledged is in the copy.
    assert!(n >= ok, "round {round}: {n} rows, {ok} acknowledged");
  }
}

#[tokio::test]
async fn close_releases_held_messages_for_another_listener_at_once() {
  let (_dir, path) = common::temp_db();
  let first = kvq_tests::open(&path, 60_000);
  fill(&first, 10).await;
  let held =
    kvq_tests::dequeue_within(&first, 10, Duration::from_secs(2)).await;
  assert_eq!(held.len(), 10);
  // Three finished before close: recorded. Seven still running: released.
  let done = held[..3]
    .iter()
    .map(|m| (m.token, Outcome::Handled))
    .collect();
  first.finish(done).await.expect("finish");
  let closed_at = Instant::now();
  first.close();
  let second = kvq_tests::open(&path, 60_000);
  let deliveries = handle_all(&second, 7, Duration::from_secs(3)).await;
  println!(
    "7 released messages handled {:?} after close ({deliveries} deliveries)",
    closed_at.elapsed()
  );
  assert_eq!(deliveries, 7, "none of the 3 handled ones came back");
  assert_eq!(common::queue_counts(&common::inspect(&path)), (0, 0));
  second.close();
}

#[tokio::test]
async fn a_foreign_claim_is_taken_back_only_after_denos_cleanup_window() {
  let (_dir, path) = common::temp_db();
  kvq_tests::open(&path, 200).close();
  let conn = rusqlite::Connection::open(&path).expect("open");
  let now = kvq_tests::now_ms();
  // Deno's claims: deadline = due time + 5 s, unmarked ids. One past its
  // deadline by 10 s (Deno may still run it), one by 70 s (Deno would have
  // taken it back itself by now).
  for (id, deadline) in [("recent", now - 10_000), ("stale", now - 70_000)] {
    conn
      .execute(
        "insert into queue_running (deadline, id, data, backoff_schedule, \
         keys_if_undelivered) values (?, ?, ?, '[100]', '[]')",
        rusqlite::params![deadline, id, v8_string(id)],
      )
      .expect("insert");
  }
  let store = kvq_tests::open(&path, 200);
  let batch =
    kvq_tests::dequeue_within(&store, 10, Duration::from_secs(2)).await;
  let got: Vec<_> = batch
    .iter()
    .map(|m| kvq_tests::parse_v8_string(&m.payload))
    .collect();
  assert_eq!(got, vec![Some("stale".to_string())]);
  // A few sweeps later the recent one is still Deno's.
  tokio::time::sleep(Duration::from_millis(400)).await;
  let ids: Vec<String> = conn
    .prepare("select id from queue_running where id not glob '*~kvq'")
    .expect("prepare")
    .query_map([], |r| r.get(0))
    .expect("query")
    .collect::<Result<_, _>>()
    .expect("rows");
  assert_eq!(ids, vec!["recent".to_string()]);
  store.close();
}

fn v8(i: i32) -> kvq_core::KvValue {
  kvq_core::KvValue::V8(kvq_tests::v8_int(i))
}

fn kvq_tests_range(k: &[u8]) -> ReadRange {
  let mut end = k.to_vec();
  end.push(0);
  ReadRange {
    start: k.to_vec(),
    end,
    limit: std::num::NonZeroU32::MIN,
    reverse: false,
  }
}
