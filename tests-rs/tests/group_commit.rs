//! Group commit: concurrent writers share transactions and fsyncs, yet
//! each write keeps its own versionstamp and its own all-or-nothing fate.

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::Barrier;

use kvq_core::KvValue;
use kvq_core::Versionstamp;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::sum;
use kvq_tests::write;

const WRITERS: usize = 200;

#[test]
fn concurrent_writers_get_distinct_stamps_with_few_fsyncs() {
  let (_dir, path) = common::temp_db();
  let store = kvq_tests::open(&path, 30_000);
  // A V8 value that a KvU64 sum cannot add to: every tenth writer fails.
  kvq_tests::block_on(kvq_tests::commit(
    &store,
    write(vec![set(key(&["v8"]), KvValue::V8(kvq_tests::v8_int(1)))]),
  ));
  let before = store.stats();
  // Another connection holds the write lock while the writers send, so
  // they all wait in the engine's queue, however the threads happen to be
  // scheduled: what is measured is how the engine groups waiting writes,
  // not how fast 200 threads start on a loaded machine.
  let blocker = rusqlite::Connection::open(&path).expect("second connection");
  blocker
    .execute_batch("begin immediate")
    .expect("the write lock");
  let barrier = Arc::new(Barrier::new(WRITERS));
  let threads: Vec<_> = (0..WRITERS)
    .map(|i| {
      let store = store.clone();
      let barrier = barrier.clone();
      std::thread::spawn(move || {
        let mut mutations =
          vec![set(key(&["w", &i.to_string()]), KvValue::U64(i as u64))];
        if i % 10 == 9 {
          mutations.push(sum(key(&["v8"]), KvValue::U64(1)));
        }
        barrier.wait();
        kvq_tests::block_on(store.atomic_write(write(mutations)))
      })
    })
    .collect();
  std::thread::sleep(std::time::Duration::from_millis(300));
  blocker.execute_batch("commit").expect("the lock released");
  let results: Vec<_> = threads
    .into_iter()
    .map(|t| t.join().expect("writer thread"))
    .collect();
  let after = store.stats();

  let mut stamps: Vec<Versionstamp> = Vec::new();
  for (i, result) in results.iter().enumerate() {
    if i % 10 == 9 {
      let e = result.as_ref().expect_err("the failing sum fails");
      assert_eq!(e.code(), "KVQ_TYPE_MISMATCH");
      continue;
    }
    let stamp = result.as_ref().expect("accepted").expect("committed");
    let stored =
      kvq_tests::block_on(kvq_tests::get(&store, &key(&["w", &i.to_string()])))
        .expect("written");
    assert_eq!(stored.versionstamp, stamp, "writer {i} reads its own stamp");
    stamps.push(stamp);
  }
  // The failed writers left nothing behind, their batch-mates everything.
  for i in (9..WRITERS).step_by(10) {
    let absent = key(&["w", &i.to_string()]);
    assert!(kvq_tests::block_on(kvq_tests::get(&store, &absent)).is_none());
  }
  let distinct: HashSet<Versionstamp> = stamps.iter().copied().collect();
  assert_eq!(distinct.len(), stamps.len(), "versionstamps are distinct");
  stamps.sort();
  assert!(stamps.windows(2).all(|w| w[0] < w[1]));

  let commits = after.commits - before.commits;
  let fsyncs = after.synced_transactions - before.synced_transactions;
  println!(
    "group commit: {WRITERS} concurrent writers, {commits} commits, {} \
     failed, {fsyncs} fsynced transactions",
    WRITERS / 10
  );
  assert_eq!(commits as usize, WRITERS - WRITERS / 10);
  assert!(
    fsyncs * 4 <= commits,
    "{fsyncs} fsyncs for {commits} commits is not group commit"
  );
  store.close();
}
