//! What must hold when things go wrong around the engine: a queue row it
//! cannot read, a close racing a claim, another process's unrelated commit
//! under a raw watch, a reply nobody can receive.

mod common;

use std::time::Duration;

use kvq_core::KvValue;
use kvq_core::Outcome;
use kvq_tests::commit;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::key;
use kvq_tests::now_ms;
use kvq_tests::set;
use kvq_tests::v8_string;
use kvq_tests::write;
use rusqlite::params;

/// A kvq claim (its id carries kvq's mark) of a process that died, past
/// its lease, whose backoff_schedule is not JSON.
fn plant_unreadable_lease(path: &str) {
  let conn = rusqlite::Connection::open(path).expect("open file");
  let id = format!("broken{}", kvq_core::sqlite::CLAIM_MARK);
  conn
    .execute(
      "insert into queue_running (deadline, id, data, backoff_schedule, keys_if_undelivered) \
       values (?, ?, ?, 'not json', '[]')",
      params![now_ms() - 10_000, id, v8_string("broken")],
    )
    .expect("insert");
}

#[tokio::test]
async fn an_unreadable_queue_row_does_not_fail_other_writes() {
  let (_dir, path) = common::temp_db();
  // Create the file, then plant the row before the store that sweeps it.
  kvq_tests::open(&path, 500).close();
  std::thread::sleep(Duration::from_millis(50));
  plant_unreadable_lease(&path);
  let store = kvq_tests::open(&path, 500);
  // The startup sweep meets the row in the same turns as these writes.
  for i in 0..20 {
    let k = key(&["after", &i.to_string()]);
    commit(&store, write(vec![set(k, KvValue::Bytes(vec![1]))])).await;
  }
  tokio::time::sleep(Duration::from_millis(300)).await;
  let conn = common::inspect(&path);
  let (ready, running) = common::queue_counts(&conn);
  println!("after the sweep: {ready} ready, {running} leased");
  assert_eq!(
    (ready, running),
    (0, 0),
    "the unreadable row left the queue"
  );
  // Set aside, whole and unmarked, with the reason: never deleted.
  let (id, data, reason): (String, Vec<u8>, String) = conn
    .query_row(
      "select id, data, reason from kvq_unreadable_queue",
      [],
      |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )
    .expect("the row is set aside");
  assert_eq!(id, "broken");
  assert_eq!(data, v8_string("broken"));
  assert!(reason.starts_with("backoff_schedule:"), "reason: {reason}");
  assert_eq!(store.stats().set_aside, 1);
  store.close();
}

#[tokio::test]
async fn close_never_leaves_a_message_leased_to_nobody() {
  for round in 0..10 {
    let (_dir, path) = common::temp_db();
    let store = kvq_tests::open(&path, 60_000);
    let waiting = {
      let store = store.clone();
      tokio::spawn(async move { store.dequeue(10).await })
    };
    tokio::time::sleep(Duration::from_millis(20)).await;
    // The enqueue and the close race into the worker's next turns.
    let racing = {
      let store = store.clone();
      tokio::spawn(async move {
        let m = enqueue(v8_string("m"), 0, Vec::new(), None);
        store.atomic_write(enqueues(vec![m])).await
      })
    };
    store.close();
    let got = waiting.await.expect("join").expect("dequeue");
    let _ = racing.await.expect("join");
    let (ready, running) = common::queue_counts(&common::inspect(&path));
    // Handed out to the waiting listener before the close, or still in the
    // queue (or never written): never leased with nobody to run it.
    let held = got.len() as i64;
    assert_eq!(
      running, held,
      "round {round}: {running} leased, {held} handed out"
    );
    assert!(ready + running <= 1);
    if let Some(m) = got.first() {
      // Its listener can still report it, as long as the store is open:
      // here it is closed, so the lease simply lapses later.
      let _ = store.finish(vec![(m.token, Outcome::Handled)]).await;
    }
  }
}

#[tokio::test]
async fn a_raw_watch_ignores_another_process_writing_other_keys() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let mut watcher =
    kvq_tests::watch_unset(&store, key(&["watched"]), true).await;
  // Another connection (another process, as far as SQLite can tell)
  // commits a write to a different key.
  let other = kvq_tests::open(&path, 30_000);
  commit(
    &other,
    write(vec![set(key(&["other"]), KvValue::Bytes(vec![1]))]),
  )
  .await;
  let quiet =
    tokio::time::timeout(Duration::from_millis(300), watcher.next()).await;
  assert!(quiet.is_err(), "a raw watch reported an unrelated commit");
  // A write to the watched key by the other process is reported.
  commit(
    &other,
    write(vec![set(key(&["watched"]), KvValue::Bytes(vec![2]))]),
  )
  .await;
  let seen = tokio::time::timeout(Duration::from_secs(2), watcher.next())
    .await
    .expect("the change arrives")
    .expect("next")
    .expect("open");
  assert!(seen[0].is_some());
  other.close();
  store.close();
}

#[tokio::test]
async fn an_open_option_out_of_range_is_refused() {
  let (_dir, path) = common::temp_db();
  for options in [r#"{"leaseMs": 10}"#, r#"{"leaseMs": 1e19}"#] {
    let err = kvq_core::ops::open(&path, options).err().expect("refused");
    assert_eq!(err.code(), "KVQ_INVALID_OPTION", "{options}");
    assert!(err.to_string().contains("leaseMs"), "{err}");
  }
}

/// A waker that registers another watch when woken, as a binding's
/// completion may call back into the store from inside a wake-up.
struct WatchOnWake {
  store: kvq_core::Store,
  woken: std::sync::mpsc::Sender<()>,
}

impl std::task::Wake for WatchOnWake {
  fn wake(self: std::sync::Arc<Self>) {
    let _second = self.store.watch(vec![key(&["second"])], false);
    let _ = self.woken.send(());
  }
}

#[tokio::test]
async fn a_watch_wake_up_may_call_back_into_the_store() {
  use std::future::Future;
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let mut watcher = kvq_tests::watch_unset(&store, key(&["w"]), false).await;
  let (woken, wakes) = std::sync::mpsc::channel();
  let waker = std::task::Waker::from(std::sync::Arc::new(WatchOnWake {
    store: store.clone(),
    woken,
  }));
  let mut next = Box::pin(watcher.next());
  let pending = next
    .as_mut()
    .poll(&mut std::task::Context::from_waker(&waker));
  assert!(pending.is_pending());
  // The worker wakes the watcher after this commit; the waker registers a
  // watch. Were the registry still locked, the worker would stall here.
  commit(
    &store,
    write(vec![set(key(&["w"]), KvValue::Bytes(vec![1]))]),
  )
  .await;
  wakes
    .recv_timeout(Duration::from_secs(2))
    .expect("the watcher was woken");
  let later = tokio::time::timeout(
    Duration::from_secs(2),
    commit(
      &store,
      write(vec![set(key(&["x"]), KvValue::Bytes(vec![2]))]),
    ),
  )
  .await;
  assert!(later.is_ok(), "the worker stalled after a wake-up");
  drop(next);
  store.close();
}
