//! A flood of writes handed to the engine at once (what a loop of
//! un-awaited `set`s becomes) runs as a series of short transactions:
//! another process's writer gets the lock between them, and none holds it
//! for long.

mod common;

use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use kvq_core::KvValue;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::write;

const FLOOD: usize = 100_000;

#[tokio::test]
async fn another_writer_interleaves_with_a_flood() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  // The other process's writer: a second store on the file (its own
  // connection and engine, as another process has) that commits a key every
  // 5 ms and records how long each commit took.
  let flooding = Arc::new(AtomicBool::new(true));
  let other = {
    let other = kvq_tests::open(&path, 30_000);
    let flooding = flooding.clone();
    tokio::spawn(async move {
      let mut waits = Vec::new();
      let mut i = 0;
      while flooding.load(SeqCst) {
        let t = Instant::now();
        let k = key(&["other", &i.to_string()]);
        kvq_tests::commit(&other, write(vec![set(k, KvValue::U64(i))])).await;
        waits.push(t.elapsed());
        i += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
      }
      other.close();
      waits
    })
  };
  let writes = (0..FLOOD)
    .map(|i| {
      write(vec![set(
        key(&["flood", &i.to_string()]),
        KvValue::Bytes(vec![1; 16]),
      )])
    })
    .collect();
  let started = Instant::now();
  let outcomes = store.atomic_write_many(writes).await;
  let took = started.elapsed();
  flooding.store(false, SeqCst);
  let waits = other.await.expect("the other writer");
  assert!(outcomes.iter().all(|o| matches!(o, Ok(Some(_)))));
  let longest = waits.iter().max().copied().unwrap_or_default();
  let longest_turn = Duration::from_micros(store.stats().longest_turn_us);
  println!(
    "{FLOOD} writes in {took:?}; the other writer committed {} times, \
     longest wait {longest:?}; longest engine transaction {longest_turn:?}",
    waits.len()
  );
  // Interleaved: the other writer kept committing through the flood.
  assert!(waits.len() >= 10, "{} commits", waits.len());
  // Bounded: no transaction of the flood held the lock for long (one
  // transaction of all of it takes seconds here).
  assert!(
    longest_turn < Duration::from_millis(500),
    "{longest_turn:?}"
  );
  assert!(longest < Duration::from_millis(500), "{longest:?}");
  store.close();
}
