//! Helpers shared by kvq's integration tests (`tests/*.rs`) and the
//! `kvq_probe` child-process binary: key and value builders, V8 strings
//! written by hand, a blocking runtime, and small store shortcuts.
//!
//! Nothing here mocks the engine: every helper drives a real
//! [`kvq_core::Store`] on a real file.

pub mod hooked;
pub mod named;

use std::future::Future;
use std::num::NonZeroU32;
use std::time::Duration;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use chrono::DateTime;
use chrono::Utc;
use kvq_core::AtomicWrite;
use kvq_core::Enqueue;
use kvq_core::Key;
use kvq_core::KeyPart;
use kvq_core::KvEntry;
use kvq_core::KvValue;
use kvq_core::Mutation;
use kvq_core::MutationKind;
use kvq_core::OpenOptions;
use kvq_core::ReadRange;
use kvq_core::Store;
use kvq_core::Versionstamp;
use kvq_core::Watcher;

/// The encoded form of a key made of string parts, e.g. `key(&["a", "b"])`.
pub fn key(parts: &[&str]) -> Vec<u8> {
  let parts = parts.iter().map(|p| KeyPart::String(p.to_string()));
  kvq_core::encode_key(&Key(parts.collect())).expect("encodable key")
}

/// The encoded form of a one-part key of raw bytes (encodes to
/// `bytes.len() + 2` bytes when no byte is zero).
pub fn bytes_key(bytes: &[u8]) -> Vec<u8> {
  let key = Key(vec![KeyPart::Bytes(bytes.to_vec())]);
  kvq_core::encode_key(&key).expect("encodable key")
}

/// V8 wire bytes of a one-byte (Latin-1) string, as Deno writes it:
/// header `FF 0F`, tag `"`, varint length, the bytes. `"hi"` becomes
/// `FF0F22026869`.
pub fn v8_string(s: &str) -> Vec<u8> {
  assert!(s.is_ascii(), "v8_string writes one-byte strings only");
  let mut out = vec![0xff, 0x0f, b'"'];
  let mut n = s.len();
  loop {
    let byte = (n & 0x7f) as u8;
    n >>= 7;
    if n == 0 {
      out.push(byte);
      break;
    }
    out.push(byte | 0x80);
  }
  out.extend_from_slice(s.as_bytes());
  out
}

/// Reads back a one-byte V8 string (any header version), or `None` when
/// the bytes hold something else.
pub fn parse_v8_string(bytes: &[u8]) -> Option<String> {
  let rest = bytes.strip_prefix(&[0xff])?;
  let (_version, rest) = rest.split_first()?;
  let rest = rest.strip_prefix(b"\"")?;
  let mut len = 0usize;
  let mut shift = 0;
  let mut i = 0;
  loop {
    let byte = *rest.get(i)?;
    len |= ((byte & 0x7f) as usize) << shift;
    i += 1;
    if byte & 0x80 == 0 {
      break;
    }
    shift += 7;
  }
  let body = rest.get(i..i + len)?;
  (rest.len() == i + len).then(|| body.iter().map(|&b| b as char).collect())
}

/// V8 wire bytes of a small integer (a Smi): `FF 0F 49 <zigzag varint>`.
pub fn v8_int(n: i32) -> Vec<u8> {
  let mut out = vec![0xff, 0x0f, b'I'];
  let mut z = ((n << 1) ^ (n >> 31)) as u32;
  loop {
    let byte = (z & 0x7f) as u8;
    z >>= 7;
    if z == 0 {
      out.push(byte);
      break;
    }
    out.push(byte | 0x80);
  }
  out
}

/// A `set` mutation without expiry.
pub fn set(key: Vec<u8>, value: KvValue) -> Mutation {
  Mutation {
    key,
    kind: MutationKind::Set(value),
    expire_at: None,
  }
}

/// A `sum` mutation, as `atomic().sum()` sends it.
pub fn sum(key: Vec<u8>, value: KvValue) -> Mutation {
  Mutation {
    key,
    kind: MutationKind::Sum {
      value,
      min_v8: Vec::new(),
      max_v8: Vec::new(),
      clamp: false,
    },
    expire_at: None,
  }
}

/// An atomic write of these mutations, with no checks or enqueues.
pub fn write(mutations: Vec<Mutation>) -> AtomicWrite {
  AtomicWrite {
    checks: Vec::new(),
    mutations,
    enqueues: Vec::new(),
  }
}

/// An enqueue of `payload` due `delay_ms` from now.
pub fn enqueue(
  payload: Vec<u8>,
  delay_ms: i64,
  keys_if_undelivered: Vec<Vec<u8>>,
  backoff_schedule: Option<Vec<u32>>,
) -> Enqueue {
  Enqueue {
    payload,
    deadline: at_ms(now_ms() + delay_ms),
    keys_if_undelivered,
    backoff_schedule,
  }
}

/// An atomic write holding only these enqueues.
pub fn enqueues(enqueues: Vec<Enqueue>) -> AtomicWrite {
  AtomicWrite {
    checks: Vec::new(),
    mutations: Vec::new(),
    enqueues,
  }
}

/// Milliseconds since the epoch, by the wall clock every process shares.
pub fn now_ms() -> i64 {
  (now_us() / 1000) as i64
}

/// Microseconds since the epoch, by the wall clock every process shares
/// (how cross-process latency is measured).
pub fn now_us() -> u128 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .expect("clock after 1970")
    .as_micros()
}

/// The instant `ms` milliseconds after the epoch.
pub fn at_ms(ms: i64) -> DateTime<Utc> {
  DateTime::from_timestamp_millis(ms).expect("a representable time")
}

/// Opens a file store with full durability and the given lease.
pub fn open(path: &str, lease_ms: u64) -> Store {
  let options = OpenOptions {
    lease: Duration::from_millis(lease_ms),
    ..OpenOptions::default()
  };
  Store::open(Some(path), options).expect("open store")
}

/// Runs a future to completion on a fresh current-thread runtime (timers
/// enabled), for the probe binary and for tests that start threads.
pub fn block_on<F: Future>(future: F) -> F::Output {
  tokio::runtime::Builder::new_current_thread()
    .enable_all()
    .build()
    .expect("a tokio runtime")
    .block_on(future)
}

/// Watches one key that is not set yet (`raw`: every change, as the
/// bindings' raw watch), checking that the first state says so.
pub async fn watch_unset(store: &Store, key: Vec<u8>, raw: bool) -> Watcher {
  let mut watcher = store.watch(vec![key], raw).expect("watch");
  let first = watcher.next().await.expect("first state").expect("open");
  assert!(first[0].is_none(), "the watched key is not set yet");
  watcher
}

/// Reads one key; `None` when it is missing (or expired).
pub async fn get(store: &Store, key: &[u8]) -> Option<KvEntry> {
  let mut end = key.to_vec();
  end.push(0);
  let range = ReadRange {
    start: key.to_vec(),
    end,
    limit: NonZeroU32::MIN,
    reverse: false,
  };
  let mut out = store.snapshot_read(vec![range]).await.expect("read");
  out.pop().and_then(|r| r.entries.into_iter().next())
}

/// Commits a write that must succeed and returns its versionstamp.
pub async fn commit(store: &Store, write: AtomicWrite) -> Versionstamp {
  store
    .atomic_write(write)
    .await
    .expect("write accepted")
    .expect("checks passed")
}

/// The store's messages up to `max`, or an empty list if none became due
/// within `wait`.
pub async fn dequeue_within(
  store: &Store,
  max: usize,
  wait: Duration,
) -> Vec<kvq_core::QueueMessage> {
  tokio::time::timeout(wait, store.dequeue(max))
    .await
    .map(|r| r.expect("dequeue"))
    .unwrap_or_default()
}

/// Formats a list of millisecond samples as `min/median/max`.
pub fn summary_ms(samples: &mut [f64]) -> String {
  samples.sort_by(f64::total_cmp);
  let median = samples[samples.len() / 2];
  format!(
    "min {:.2} ms, median {:.2} ms, max {:.2} ms (n={})",
    samples[0],
    median,
    samples[samples.len() - 1],
    samples.len()
  )
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn v8_strings_match_denos_bytes() {
    assert_eq!(v8_string("hi"), [0xff, 0x0f, 0x22, 0x02, 0x68, 0x69]);
    let long = "x".repeat(300);
    assert_eq!(&v8_string(&long)[3..5], &[0xac, 0x02]);
    assert_eq!(parse_v8_string(&v8_string(&long)), Some(long));
    assert_eq!(parse_v8_string(&v8_int(1)), None);
    assert_eq!(v8_int(1), [0xff, 0x0f, 0x49, 0x02]);
    assert_eq!(v8_int(-1), [0xff, 0x0f, 0x49, 0x01]);
  }
}
