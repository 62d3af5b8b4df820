//! `kvq_probe`: the child process of kvq's multi-process tests. Each
//! subcommand opens the database file with the real engine and does one
//! job, so a test can kill it, run several at once, or time what another
//! process sees.
//!
//! ```text
//! kvq_probe hold    DB LEASE_MS N          lease N messages, say so, sleep
//! kvq_probe consume DB LEASE_MS OUT        handle messages into OUT until
//!                                          the key ["stop"] is written
//! kvq_probe enqueue DB N PREFIX BATCH      enqueue PREFIX0..PREFIX{N-1}
//! kvq_probe enqueue-stamped DB N GAP_MS    enqueue N wall-clock stamps
//! kvq_probe write-stamped DB KEY N GAP_MS  set ["KEY"] to N stamps
//! ```
//!
//! Payloads are V8 one-byte strings; stamps are microseconds since the
//! epoch, as text.

use kvq_core::Outcome;
use std::io::BufWriter;
use std::io::Write;
use std::time::Duration;

use kvq_core::KvValue;
use kvq_core::Store;
use kvq_tests::commit;
use kvq_tests::enqueue;
use kvq_tests::enqueues;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::v8_string;
use kvq_tests::write;

fn main() {
  let args: Vec<String> = std::env::args().skip(1).collect();
  let arg = |i: usize| -> &str {
    args.get(i).map(String::as_str).unwrap_or_else(|| usage())
  };
  let num = |i: usize| -> u64 { arg(i).parse().unwrap_or_else(|_| usage()) };
  match arg(0) {
    "hold" => hold(arg(1), num(2), num(3) as usize),
    "consume" => consume(arg(1), num(2), arg(3)),
    "enqueue" => produce(arg(1), num(2), arg(3), num(4) as usize),
    "enqueue-stamped" => enqueue_stamped(arg(1), num(2), num(3)),
    "write-stamped" => write_stamped(arg(1), arg(2), num(3), num(4)),
    _ => usage(),
  }
}

fn usage() -> ! {
  eprintln!("usage: see the doc comment of tests-rs/src/bin/kvq_probe.rs");
  std::process::exit(2)
}

/// Leases `n` messages, never finishes them, prints `held N` and sleeps
/// until killed. The store keeps renewing the leases meanwhile.
fn hold(path: &str, lease_ms: u64, n: usize) {
  let store = kvq_tests::open(path, lease_ms);
  kvq_tests::block_on(async {
    let mut held = Vec::new();
    while held.len() < n {
      let batch = store.dequeue(n - held.len()).await.expect("dequeue");
      held.extend(batch);
    }
    println!("held {}", held.len());
    std::io::stdout().flush().expect("stdout");
    // Keep the messages (and the store) alive: the test kills us.
    tokio::time::sleep(Duration::from_secs(3600)).await;
    drop(held);
  });
}

/// Handles messages (one line per payload in `out`, written before the
/// acknowledgement) until another process writes the key `["stop"]`.
fn consume(path: &str, lease_ms: u64, out: &str) {
  let store = kvq_tests::open(path, lease_ms);
  let file = std::fs::File::create(out).expect("create output");
  let mut out = BufWriter::new(file);
  let mut handled = 0usize;
  kvq_tests::block_on(async {
    let stopper = store.clone();
    let mut watcher = store.watch(vec![key(&["stop"])], false).expect("watch");
    // The stop signal closes the store, which ends a waiting dequeue with
    // an empty batch, so no claimed message is ever dropped on the floor.
    tokio::spawn(async move {
      while let Ok(Some(state)) = watcher.next().await {
        if state[0].is_some() {
          stopper.close();
          break;
        }
      }
    });
    loop {
      let batch = store.dequeue(64).await.expect("dequeue");
      if batch.is_empty() {
        break;
      }
      let mut results = Vec::with_capacity(batch.len());
      for message in batch {
        let text = kvq_tests::parse_v8_string(&message.payload)
          .expect("a V8 string payload");
        writeln!(out, "{text}").expect("write output");
        results.push((message.token, Outcome::Handled));
      }
      handled += results.len();
      // Make the record durable before the message disappears.
      out.flush().expect("flush output");
      store.finish(results).await.expect("finish");
    }
  });
  out.flush().expect("flush output");
  println!("handled {handled}");
}

/// Enqueues `n` messages `PREFIX0`.. in atomics of `batch`.
fn produce(path: &str, n: u64, prefix: &str, batch: usize) {
  let store = kvq_tests::open(path, 30_000);
  kvq_tests::block_on(async {
    let payloads: Vec<String> =
      (0..n).map(|i| format!("{prefix}{i}")).collect();
    for chunk in payloads.chunks(batch) {
      let messages = chunk
        .iter()
        .map(|p| enqueue(v8_string(p), 0, Vec::new(), None))
        .collect();
      commit(&store, enqueues(messages)).await;
    }
  });
  store.close();
  println!("enqueued {n}");
}

/// Enqueues `n` messages whose payload is the wall-clock time (µs) just
/// before the enqueue call, `gap_ms` apart.
fn enqueue_stamped(path: &str, n: u64, gap_ms: u64) {
  let store = kvq_tests::open(path, 30_000);
  kvq_tests::block_on(async {
    for _ in 0..n {
      tokio::time::sleep(Duration::from_millis(gap_ms)).await;
      let stamp = kvq_tests::now_us().to_string();
      let message = enqueue(v8_string(&stamp), 0, Vec::new(), None);
      commit(&store, enqueues(vec![message])).await;
    }
  });
  close(store);
}

/// Sets `[name]` to the wall-clock time (µs, as raw bytes of text) just
/// before each write, `n` times, `gap_ms` apart.
fn write_stamped(path: &str, name: &str, n: u64, gap_ms: u64) {
  let store = kvq_tests::open(path, 30_000);
  kvq_tests::block_on(async {
    for _ in 0..n {
      tokio::time::sleep(Duration::from_millis(gap_ms)).await;
      let stamp = kvq_tests::now_us().to_string().into_bytes();
      let m = set(key(&[name]), KvValue::Bytes(stamp));
      commit(&store, write(vec![m])).await;
    }
  });
  close(store);
}

fn close(store: Store) {
  store.close();
  println!("done");
}
