//! A process killed while it holds leased messages loses none of them: its
//! leases lapse, the next store to open the file sweeps them back (as
//! failed attempts), and every message is delivered.

mod common;

use kvq_core::Outcome;
use std::collections::HashSet;
use std::time::Duration;
use std::time::Instant;

use kvq_tests::commit;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::v8_string;

const MESSAGES: usize = 1000;
const LEASE_MS: u64 = 500;

#[tokio::test]
async fn sigkilled_holder_loses_no_message() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, LEASE_MS);
  let messages = (0..MESSAGES)
    .map(|i| enqueue(v8_string(&format!("m{i}")), 0, Vec::new(), None))
    .collect();
  commit(&store, enqueues(messages)).await;
  store.close();

  let mut child = common::probe(&[
    "hold",
    &path,
    &LEASE_MS.to_string(),
    &MESSAGES.to_string(),
  ]);
  assert_eq!(common::read_line(&mut child), format!("held {MESSAGES}"));
  // Every message is leased by the child, none is ready.
  let conn = common::inspect(&path);
  assert_eq!(common::queue_counts(&conn), (0, MESSAGES as i64));
  child.kill().expect("SIGKILL the holder");
  let status = child.wait().expect("wait");
  assert!(!status.success(), "the holder was killed, not exited");
  let killed_at = Instant::now();

  let store = kvq_tests::open(&path, LEASE_MS);
  let mut seen = HashSet::new();
  let mut deliveries = 0;
  while seen.len() < MESSAGES {
    assert!(
      killed_at.elapsed() < Duration::from_secs(20),
      "only {} of {MESSAGES} messages came back",
      seen.len()
    );
    let batch =
      kvq_tests::dequeue_within(&store, 256, Duration::from_secs(5)).await;
    deliveries += batch.len();
    let mut results = Vec::new();
    for message in batch {
      let text = kvq_tests::parse_v8_string(&message.payload).expect("string");
      seen.insert(text);
      results.push((message.token, Outcome::Handled));
    }
    store.finish(results).await.expect("finish");
  }
  println!(
    "crash recovery: {} distinct of {MESSAGES} delivered ({deliveries} \
     deliveries) {:?} after SIGKILL (lease {LEASE_MS} ms)",
    seen.len(),
    killed_at.elapsed()
  );
  let expected: HashSet<String> =
    (0..MESSAGES).map(|i| format!("m{i}")).collect();
  assert_eq!(seen, expected);
  assert_eq!(deliveries, MESSAGES, "no message was delivered twice");
  // Acknowledged: nothing is left in either table.
  assert_eq!(common::queue_counts(&conn), (0, 0));
  store.close();
}

/// A crash counts as a failed attempt: a message with no retries left
/// (`backoffSchedule: []`) whose holder died goes to its dead-letter key
/// instead of being delivered again, as in Deno.
#[tokio::test]
async fn crash_consumes_an_attempt() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, LEASE_MS);
  let messages = (0..10)
    .map(|i| {
      let dead = kvq_tests::key(&["dead", &i.to_string()]);
      enqueue(v8_string(&format!("d{i}")), 0, vec![dead], Some(Vec::new()))
    })
    .collect();
  commit(&store, enqueues(messages)).await;
  store.close();

  let mut child = common::probe(&["hold", &path, &LEASE_MS.to_string(), "10"]);
  assert_eq!(common::read_line(&mut child), "held 10");
  child.kill().expect("SIGKILL the holder");
  child.wait().expect("wait");

  let store = kvq_tests::open(&path, LEASE_MS);
  let conn = common::inspect(&path);
  let started = Instant::now();
  while common::queue_counts(&conn) != (0, 0) {
    assert!(started.elapsed() < Duration::from_secs(10), "never swept");
    tokio::time::sleep(Duration::from_millis(20)).await;
  }
  for i in 0..10 {
    let dead = kvq_tests::key(&["dead", &i.to_string()]);
    let entry = kvq_tests::get(&store, &dead).await.expect("dead letter");
    let kvq_core::KvValue::V8(bytes) = entry.value else {
      panic!("dead letters are V8 values");
    };
    assert_eq!(kvq_tests::parse_v8_string(&bytes), Some(format!("d{i}")));
  }
  // Nothing was delivered again.
  let again =
    kvq_tests::dequeue_within(&store, 10, Duration::from_millis(200)).await;
  assert!(again.is_empty());
  store.close();
}
