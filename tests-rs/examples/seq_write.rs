//! Sequential writes through the engine alone, each caller waiting for the
//! previous commit: the ceiling a binding's sequential `set` (or, with
//! `enqueue`, its sequential `enqueue`) can reach.
//!
//!     cargo run --release -p kvq-tests --example seq_write \
//!       [-- [COUNT] [memory] [enqueue]]
//!
//! With `memory`, the database is in memory: no fsync, only the engine and
//! the thread hops.

use std::sync::mpsc;
use std::time::Instant;

use kvq_core::KvValue;
use kvq_core::OpenOptions;
use kvq_core::Reply;
use kvq_core::Store;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::write;

fn main() {
  // A number is the count; any other argument a flag, in any order.
  let args: Vec<String> = std::env::args().skip(1).collect();
  let count: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(3000);
  let dir = tempfile::tempdir().expect("temp dir");
  let path = dir.path().join("seq.sqlite3");
  let memory = args.iter().any(|a| a == "memory");
  let queue = args.iter().any(|a| a == "enqueue");
  let path = if memory { None } else { path.to_str() };
  let store = Store::open(path, OpenOptions::default()).expect("open");
  let payload = vec![b'x'; 130];
  let (tx, rx) = mpsc::channel();
  let started = Instant::now();
  for i in 0..count {
    let tx = tx.clone();
    let w = if queue {
      enqueues(vec![enqueue(payload.clone(), 0, Vec::new(), None)])
    } else {
      write(vec![set(
        key(&[&format!("k{i}")]),
        KvValue::Bytes(payload.clone()),
      )])
    };
    store.atomic_write_then(w, Reply::callback(move |r| drop(tx.send(r))));
    rx.recv().expect("reply").expect("write");
  }
  let secs = started.elapsed().as_secs_f64();
  let rate = count as f64 / secs;
  println!(
    "{{\"op\": \"{op}\", \"database\": \"{db}\", \"writes\": {count}, \"seconds\": {secs:.3}, \"writes_per_second\": {rate:.0}}}",
    op = if queue { "enqueue" } else { "set" },
    db = if memory { "memory" } else { "file" },
  );
  store.close();
}
