//! Queue semantics on a real file: retries along the backoff schedule,
//! dead letters, lease renewal, ordering, delays, watch of dead letters,
//! expiry, and what survives a reopen.

mod common;

use kvq_core::Outcome;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use kvq_core::KvValue;
use kvq_core::Mutation;
use kvq_core::MutationKind;
use kvq_core::Store;
use kvq_tests::commit;
use kvq_tests::dequeue_within;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::key;
use kvq_tests::parse_v8_string;
use kvq_tests::set;
use kvq_tests::v8_string;
use kvq_tests::write;

const SECOND: Duration = Duration::from_secs(1);

fn text(message: &kvq_core::QueueMessage) -> String {
  parse_v8_string(&message.payload).expect("a V8 string payload")
}

/// Watches the file from another connection, one read transaction per
/// look, and records (messages in either queue table, dead-letter keys
/// present) until stopped.
fn observe(
  path: &str,
  dead: Vec<Vec<u8>>,
  stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<(i64, i64)>> {
  let conn = common::inspect(path);
  std::thread::spawn(move || {
    let mut seen = Vec::new();
    while !stop.load(Ordering::SeqCst) {
      conn.execute_batch("begin").expect("begin");
      let (queued, running) = common::queue_counts(&conn);
      let keys: i64 = dead
        .iter()
        .map(|k| {
          conn
            .query_row("select count(*) from kv where k = ?", [k], |r| {
              r.get::<_, i64>(0)
            })
            .expect("count")
        })
        .sum();
      conn.execute_batch("commit").expect("commit");
      seen.push((queued + running, keys));
    }
    seen
  })
}

#[tokio::test]
async fn retries_follow_the_schedule_then_dead_letter_atomically() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let dead = vec![key(&["dead", "a"]), key(&["dead", "b"])];
  let message = enqueue(v8_string("r"), 0, dead.clone(), Some(vec![10, 10]));
  commit(&store, enqueues(vec![message])).await;
  let stop = Arc::new(AtomicBool::new(false));
  let observer = observe(&path, dead.clone(), stop.clone());

  let mut failed_at: Option<Instant> = None;
  let mut attempts = 0;
  loop {
    let batch = dequeue_within(&store, 1, Duration::from_millis(500)).await;
    let Some(message) = batch.first() else { break };
    if let Some(at) = failed_at {
      // Due times are whole milliseconds, so allow 1 ms of truncation.
      let waited = at.elapsed();
      assert!(waited >= Duration::from_millis(9), "waited only {waited:?}");
    }
    assert_eq!(text(message), "r");
    attempts += 1;
    // The engine stamps the failure no earlier than this.
    failed_at = Some(Instant::now());
    store
      .finish(vec![(message.token, Outcome::Failed)])
      .await
      .expect("finish");
  }
  // Let the observer take a few looks at the final state, then stop it.
  tokio::time::sleep(Duration::from_millis(20)).await;
  stop.store(true, Ordering::SeqCst);
  let seen = observer.join().expect("observer");
  assert_eq!(attempts, 3, "[10, 10] means three attempts");

  let conn = common::inspect(&path);
  assert_eq!(common::queue_counts(&conn), (0, 0), "the message is gone");
  let a = kvq_tests::get(&store, &dead[0])
    .await
    .expect("dead letter a");
  let b = kvq_tests::get(&store, &dead[1])
    .await
    .expect("dead letter b");
  assert!(matches!(&a.value, KvValue::V8(v) if *v == v8_string("r")));
  assert!(matches!(&b.value, KvValue::V8(v) if *v == v8_string("r")));
  assert_eq!(a.versionstamp, b.versionstamp, "written by one commit");
  // In every snapshot the message was either still queued or already
  // dead-lettered to both keys, never both and never neither.
  assert!(seen.contains(&(1, 0)) && seen.contains(&(0, 2)), "{seen:?}");
  let torn: Vec<_> = seen
    .iter()
    .filter(|s| **s != (1, 0) && **s != (0, 2))
    .collect();
  assert!(torn.is_empty(), "{} torn snapshots: {torn:?}", torn.len());
  println!("dead-letter atomicity: {} snapshots observed", seen.len());
  store.close();
}

#[tokio::test]
async fn empty_schedule_means_no_retry() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let dl = key(&["dl"]);
  commit(
    &store,
    enqueues(vec![
      enqueue(v8_string("once"), 0, vec![dl.clone()], Some(Vec::new())),
      enqueue(v8_string("dropped"), 0, Vec::new(), Some(Vec::new())),
    ]),
  )
  .await;
  let batch = dequeue_within(&store, 2, SECOND).await;
  assert_eq!(batch.len(), 2);
  let tokens = batch.iter().map(|m| (m.token, Outcome::Failed)).collect();
  store.finish(tokens).await.expect("finish");
  let again = dequeue_within(&store, 2, Duration::from_millis(300)).await;
  assert!(again.is_empty(), "no retry");
  let entry = kvq_tests::get(&store, &dl).await.expect("dead letter");
  assert!(matches!(entry.value, KvValue::V8(v) if v == v8_string("once")));
  let conn = common::inspect(&path);
  assert_eq!(common::queue_counts(&conn), (0, 0), "the other one dropped");
  store.close();
}

fn running_deadline(path: &str) -> i64 {
  common::inspect(path)
    .query_row("select deadline from queue_running", [], |r| r.get(0))
    .expect("one running row")
}

#[tokio::test]
async fn a_held_lease_is_renewed_and_a_dropped_one_lapses() {
  const LEASE_MS: u64 = 150;
  let (_dir, path) = common::temp_db();
  let a = kvq_tests::open(&path, LEASE_MS);
  let b = kvq_tests::open(&path, LEASE_MS);
  let one =
    |p: &str| enqueues(vec![enqueue(v8_string(p), 0, Vec::new(), None)]);
  commit(&a, one("held")).await;
  let held = dequeue_within(&a, 1, SECOND).await;
  assert_eq!(held.len(), 1);
  let first_deadline = running_deadline(&path);
  // Three leases long, a second consumer on the same file gets nothing.
  let hold = Duration::from_millis(3 * LEASE_MS + 50);
  assert!(
    dequeue_within(&b, 1, hold).await.is_empty(),
    "not redelivered"
  );
  assert!(running_deadline(&path) > first_deadline + 2 * LEASE_MS as i64);
  a.finish(vec![(held[0].token, Outcome::Handled)])
    .await
    .expect("finish");
  let conn = common::inspect(&path);
  assert_eq!(common::queue_counts(&conn), (0, 0));

  // The control: a lease nobody renews (its store closed without
  // finishing) lapses, and the other consumer gets the message.
  commit(&a, one("abandoned")).await;
  assert_eq!(dequeue_within(&a, 1, SECOND).await.len(), 1);
  a.close();
  let taken = dequeue_within(&b, 1, 5 * SECOND).await;
  assert_eq!(taken.iter().map(text).collect::<Vec<_>>(), ["abandoned"]);
  b.close();
}

#[tokio::test]
async fn same_millisecond_messages_come_in_enqueue_order() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let due = kvq_tests::now_ms();
  let at = |p: String| {
    let mut m = enqueue(v8_string(&p), 0, Vec::new(), None);
    m.deadline = kvq_tests::at_ms(due);
    m
  };
  let mut expected: Vec<String> = (0..100).map(|i| format!("a{i}")).collect();
  commit(&store, enqueues(expected.iter().cloned().map(at).collect())).await;
  for i in 0..20 {
    let p = format!("b{i}");
    commit(&store, enqueues(vec![at(p.clone())])).await;
    expected.push(p);
  }
  let mut got = Vec::new();
  while got.len() < expected.len() {
    let batch = dequeue_within(&store, 1000, SECOND).await;
    assert!(!batch.is_empty(), "all are due");
    got.extend(batch.iter().map(text));
    let done = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
    store.finish(done).await.expect("finish");
  }
  assert_eq!(got, expected);
  store.close();
}

#[tokio::test]
async fn delayed_messages_wait_for_their_time() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let late = enqueue(v8_string("late"), 300, Vec::new(), None);
  let due_ms = late.deadline.timestamp_millis();
  let now = enqueue(v8_string("now"), 0, Vec::new(), None);
  commit(&store, enqueues(vec![late, now])).await;
  let first = dequeue_within(&store, 2, SECOND).await;
  assert_eq!(first.iter().map(text).collect::<Vec<_>>(), ["now"]);
  assert!(kvq_tests::now_ms() < due_ms, "the late one is not due yet");
  let second = dequeue_within(&store, 2, 2 * SECOND).await;
  assert!(
    kvq_tests::now_ms() >= due_ms,
    "delivered no earlier than due"
  );
  assert_eq!(second.iter().map(text).collect::<Vec<_>>(), ["late"]);
  store.close();
}

#[tokio::test]
async fn watch_sees_dead_letter_writes() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let dl = key(&["watched-dl"]);
  let mut watcher = kvq_tests::watch_unset(&store, dl.clone(), false).await;
  let m = enqueue(v8_string("x"), 0, vec![dl], Some(Vec::new()));
  commit(&store, enqueues(vec![m])).await;
  let batch = dequeue_within(&store, 1, SECOND).await;
  store
    .finish(vec![(batch[0].token, Outcome::Failed)])
    .await
    .expect("finish");
  let state = tokio::time::timeout(SECOND, watcher.next())
    .await
    .expect("the dead letter woke the watch")
    .expect("watch")
    .expect("open");
  let entry = state[0].as_ref().expect("the dead letter");
  assert!(matches!(&entry.value, KvValue::V8(v) if *v == v8_string("x")));
  store.close();
}

#[tokio::test]
async fn expired_entries_are_never_read_and_are_collected() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let expiring = |k: &str, in_ms: i64| Mutation {
    key: key(&[k]),
    kind: MutationKind::Set(KvValue::Bytes(k.as_bytes().to_vec())),
    expire_at: Some(kvq_tests::at_ms(kvq_tests::now_ms() + in_ms)),
  };
  let soon = expiring("soon", 300);
  let expires_at = soon.expire_at.expect("set").timestamp_millis();
  commit(
    &store,
    write(vec![
      soon,
      expiring("past", -1000),
      set(key(&["keep"]), KvValue::U64(1)),
    ]),
  )
  .await;
  assert!(kvq_tests::get(&store, &key(&["past"])).await.is_none());
  assert!(kvq_tests::get(&store, &key(&["soon"])).await.is_some());
  while kvq_tests::now_ms() <= expires_at {
    tokio::time::sleep(Duration::from_millis(5)).await;
  }
  // Past its time the entry is gone for every read at once, collected or
  // not (Deno keeps returning it until its collector runs).
  assert!(kvq_tests::get(&store, &key(&["soon"])).await.is_none());
  let everything = kvq_core::ReadRange {
    start: vec![0x00],
    end: vec![0xff],
    limit: std::num::NonZeroU32::new(100).expect("positive"),
    reverse: false,
  };
  let listed = store.snapshot_read(vec![everything]).await.expect("list");
  let keys: Vec<_> = listed[0].entries.iter().map(|e| e.key.clone()).collect();
  assert_eq!(keys, [key(&["keep"])]);
  // And the rows are collected from the file.
  let conn = common::inspect(&path);
  let started = Instant::now();
  loop {
    let rows: i64 = conn
      .query_row("select count(*) from kv", [], |r| r.get(0))
      .expect("count");
    if rows == 1 {
      break;
    }
    assert!(started.elapsed() < 3 * SECOND, "{rows} rows left after 3 s");
    tokio::time::sleep(Duration::from_millis(10)).await;
  }
  store.close();
}

fn stamp_number(stamp: [u8; 10]) -> u128 {
  let mut wide = [0u8; 16];
  wide[6..].copy_from_slice(&stamp);
  u128::from_be_bytes(wide)
}

async fn reopen(store: Store, path: &str, lease_ms: u64) -> Store {
  store.close();
  kvq_tests::open(path, lease_ms)
}

#[tokio::test]
async fn reopen_keeps_versionstamps_increasing_and_messages() {
  const LEASE_MS: u64 = 200;
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, LEASE_MS);
  let k = key(&["k"]);
  let before = commit(&store, write(vec![set(k.clone(), KvValue::U64(1))]));
  let before = before.await;
  commit(
    &store,
    enqueues(vec![
      enqueue(v8_string("held"), 0, Vec::new(), None),
      enqueue(v8_string("a"), 0, Vec::new(), None),
      enqueue(v8_string("b"), 0, Vec::new(), None),
      enqueue(v8_string("delayed"), 400, Vec::new(), None),
    ]),
  )
  .await;
  // "held" is leased and never finished before the store closes.
  let held = dequeue_within(&store, 1, SECOND).await;
  assert_eq!(held.iter().map(text).collect::<Vec<_>>(), ["held"]);

  let store = reopen(store, &path, LEASE_MS).await;
  let after = commit(&store, write(vec![set(k.clone(), KvValue::U64(2))]));
  let after = after.await;
  assert!(
    stamp_number(after) > stamp_number(before),
    "the version moves on"
  );
  let stored = kvq_tests::get(&store, &k).await.expect("k");
  assert_eq!(stored.versionstamp, after);

  let mut got = Vec::new();
  let started = Instant::now();
  while got.len() < 4 && started.elapsed() < 5 * SECOND {
    let batch = dequeue_within(&store, 4, SECOND).await;
    got.extend(batch.iter().map(text));
    let done = batch.iter().map(|m| (m.token, Outcome::Handled)).collect();
    store.finish(done).await.expect("finish");
  }
  got.sort();
  assert_eq!(got, ["a", "b", "delayed", "held"]);
  store.close();
}

/// A dequeue whose caller stopped waiting (a timed-out future) must not
/// swallow the next message: here one with no retries and no dead-letter
/// keys, which a lapsed lease would drop without a single delivery.
#[tokio::test]
async fn an_abandoned_dequeue_does_not_eat_a_message() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 100);
  let nothing = dequeue_within(&store, 1, Duration::from_millis(50)).await;
  assert!(nothing.is_empty(), "the queue is empty: the wait times out");
  let once = enqueue(v8_string("once"), 0, Vec::new(), Some(Vec::new()));
  commit(&store, enqueues(vec![once])).await;
  let got = dequeue_within(&store, 1, 2 * SECOND).await;
  assert_eq!(got.iter().map(text).collect::<Vec<_>>(), ["once"]);
  store.close();
}
