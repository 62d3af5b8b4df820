//! Four consumer processes share one file while a producer process adds
//! messages: every message is handled, none is lost, and with a generous
//! lease none is handled twice.

mod common;

use std::collections::HashMap;
use std::time::Duration;
use std::time::Instant;

use kvq_core::KvValue;
use kvq_tests::commit;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::v8_string;
use kvq_tests::write;

const CONSUMERS: usize = 4;
/// Enqueued before the consumers start.
const UPFRONT: usize = 10_000;
/// Enqueued by a producer process while they run.
const PRODUCED: usize = 10_000;
/// Long enough that no lease lapses during the test.
const LEASE_MS: &str = "30000";

#[tokio::test]
async fn four_processes_handle_every_message_once() {
  let (dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  let payloads: Vec<String> = (0..UPFRONT).map(|i| format!("u{i}")).collect();
  for chunk in payloads.chunks(1000) {
    let messages = chunk
      .iter()
      .map(|p| enqueue(v8_string(p), 0, Vec::new(), None))
      .collect();
    commit(&store, enqueues(messages)).await;
  }

  let started = Instant::now();
  let outputs: Vec<String> = (0..CONSUMERS)
    .map(|i| dir.path().join(format!("consumer{i}.txt")))
    .map(|p| p.to_str().expect("utf-8").to_string())
    .collect();
  let mut consumers: Vec<_> = outputs
    .iter()
    .map(|out| common::probe(&["consume", &path, LEASE_MS, out]))
    .collect();
  let mut producer =
    common::probe(&["enqueue", &path, &PRODUCED.to_string(), "p", "100"]);
  assert_eq!(
    common::read_line(&mut producer),
    format!("enqueued {PRODUCED}")
  );
  common::wait_ok(&mut producer);

  // Done when both tables are empty: every message was acknowledged.
  let conn = common::inspect(&path);
  while common::queue_counts(&conn) != (0, 0) {
    assert!(
      started.elapsed() < Duration::from_secs(60),
      "still queued/running after 60 s: {:?}",
      common::queue_counts(&conn)
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
  }
  let drained = started.elapsed();
  commit(
    &store,
    write(vec![set(key(&["stop"]), KvValue::Bytes(vec![1]))]),
  )
  .await;
  let mut per_consumer = Vec::new();
  for child in &mut consumers {
    let line = common::read_line(child);
    common::wait_ok(child);
    per_consumer.push(line);
  }
  store.close();

  let mut counts: HashMap<String, usize> = HashMap::new();
  for out in &outputs {
    let text = std::fs::read_to_string(out).expect("consumer output");
    for line in text.lines() {
      *counts.entry(line.to_string()).or_default() += 1;
    }
  }
  let duplicates: usize = counts.values().map(|n| n - 1).sum();
  let total = UPFRONT + PRODUCED;
  println!(
    "multi-process: {total} messages, {} distinct handled, {duplicates} \
     duplicates, drained in {drained:?}; per consumer: {per_consumer:?}",
    counts.len()
  );
  let missing: Vec<String> = (0..UPFRONT)
    .map(|i| format!("u{i}"))
    .chain((0..PRODUCED).map(|i| format!("p{i}")))
    .filter(|p| !counts.contains_key(p))
    .collect();
  assert!(missing.is_empty(), "lost {} messages", missing.len());
  assert_eq!(counts.len(), total, "nothing unexpected was handled");
  assert_eq!(duplicates, 0, "no lease lapsed, so nothing runs twice");
  let busy = per_consumer.iter().filter(|l| *l != "handled 0").count();
  assert!(busy >= 2, "the work was shared: {per_consumer:?}");
}
