//! Every limit and validation message the engine owns: the exact text
//! (Deno 2.9.6's), the JS class and the `KVQ_*` code, on both sides of
//! each boundary.

use std::num::NonZeroU32;

use kvq_core::AtomicWrite;
use kvq_core::Check;
use kvq_core::Error;
use kvq_core::JsClass;
use kvq_core::KvValue;
use kvq_core::Mutation;
use kvq_core::MutationKind;
use kvq_core::OpenOptions;
use kvq_core::ReadRange;
use kvq_core::Store;
use kvq_tests::bytes_key;
use kvq_tests::enqueue;
use kvq_tests::key;
use kvq_tests::set;
use kvq_tests::sum;
use kvq_tests::v8_string;
use kvq_tests::write;

fn memory() -> Store {
  Store::open(None, OpenOptions::default()).expect("in-memory store")
}

fn assert_error<T>(result: Result<T, Error>, message: &str, code: &str) {
  let Err(e) = result else {
    panic!("expected the error {message:?}");
  };
  assert_eq!(e.to_string(), message);
  assert_eq!(e.code(), code, "{message}");
  assert_eq!(e.js_class(), JsClass::TypeError, "{message}");
}

fn small(i: usize) -> Mutation {
  set(key(&["k", &i.to_string()]), KvValue::U64(i as u64))
}

fn check(key: Vec<u8>) -> Check {
  Check {
    key,
    versionstamp: None,
  }
}

fn range(start: Vec<u8>, limit: u32) -> ReadRange {
  let mut end = start.clone();
  end.push(0xff);
  ReadRange {
    start,
    end,
    limit: NonZeroU32::new(limit).expect("positive"),
    reverse: false,
  }
}

const LIMIT: &str = "KVQ_LIMIT_EXCEEDED";

#[tokio::test]
async fn checks_and_mutations_are_counted() {
  let store = memory();
  let checks = |n: usize| AtomicWrite {
    checks: (0..n).map(|i| check(key(&["c", &i.to_string()]))).collect(),
    mutations: Vec::new(),
    enqueues: Vec::new(),
  };
  store
    .atomic_write(checks(100))
    .await
    .expect("100 checks pass");
  let r = store.atomic_write(checks(101)).await;
  assert_error(r, "Too many checks (max 100)", LIMIT);

  let sets = |n: usize| write((0..n).map(small).collect());
  store
    .atomic_write(sets(1000))
    .await
    .expect("1000 sets pass");
  let many = "Too many mutations (max 1000)";
  assert_error(store.atomic_write(sets(1001)).await, many, LIMIT);
  let mut mixed = sets(999);
  mixed.enqueues = (0..2)
    .map(|_| enqueue(v8_string("m"), 0, Vec::new(), None))
    .collect();
  assert_error(store.atomic_write(mixed).await, many, LIMIT);
  let mut only_enqueues = write(Vec::new());
  only_enqueues.enqueues = (0..1001)
    .map(|_| enqueue(v8_string("m"), 0, Vec::new(), None))
    .collect();
  assert_error(store.atomic_write(only_enqueues).await, many, LIMIT);

  // Deno's order: the check count is named before the mutation count.
  let mut both = checks(101);
  both.mutations = (0..1001).map(small).collect();
  let r = store.atomic_write(both).await;
  assert_error(r, "Too many checks (max 100)", LIMIT);
}

#[tokio::test]
async fn write_keys_are_at_most_2048_bytes() {
  let store = memory();
  let too_large = "Key too large for write (max 2048 bytes)";
  let code = "KVQ_KEY_TOO_LARGE";
  let fits = bytes_key(&[1; 2046]);
  let over = bytes_key(&[1; 2047]);
  assert_eq!((fits.len(), over.len()), (2048, 2049));
  let value = || KvValue::Bytes(vec![1]);
  kvq_tests::commit(&store, write(vec![set(fits.clone(), value())])).await;
  let r = store
    .atomic_write(write(vec![set(over.clone(), value())]))
    .await;
  assert_error(r, too_large, code);
  // Zero bytes are escaped and count double.
  let zeros_fit = bytes_key(&[0; 1023]);
  let zeros_over = bytes_key(&[0; 1024]);
  assert_eq!((zeros_fit.len(), zeros_over.len()), (2048, 2050));
  kvq_tests::commit(&store, write(vec![set(zeros_fit, value())])).await;
  let r = store
    .atomic_write(write(vec![set(zeros_over, value())]))
    .await;
  assert_error(r, too_large, code);
  // Deletes, sums and checks are writes too.
  let delete = Mutation {
    key: over.clone(),
    kind: MutationKind::Delete,
    expire_at: None,
  };
  let r = store.atomic_write(write(vec![delete])).await;
  assert_error(r, too_large, code);
  let r = store
    .atomic_write(write(vec![sum(over.clone(), KvValue::U64(1))]))
    .await;
  assert_error(r, too_large, code);
  let mut checked = write(Vec::new());
  checked.checks = vec![check(over)];
  assert_error(store.atomic_write(checked).await, too_large, code);
}

#[tokio::test]
async fn read_keys_are_at_most_2049_bytes() {
  let store = memory();
  let too_large = "Key too large for read (max 2049 bytes)";
  let code = "KVQ_KEY_TOO_LARGE";
  let longest = bytes_key(&[1; 2047]);
  let over = bytes_key(&[1; 2048]);
  assert_eq!((longest.len(), over.len()), (2049, 2050));
  // Both bounds are checked, as Deno does: a get of K reads [K, K 00), so
  // a 2048-byte key is the longest one can get.
  let writable = bytes_key(&[1; 2046]);
  assert!(kvq_tests::get(&store, &writable).await.is_none());
  let mut get = range(longest.clone(), 1);
  get.end = [longest.as_slice(), &[0]].concat();
  assert_error(store.snapshot_read(vec![get]).await, too_large, code);
  let mut bounds = range(longest.clone(), 1);
  bounds.end = longest.clone();
  store
    .snapshot_read(vec![bounds])
    .await
    .expect("2049-byte bounds");
  let mut start_over = range(over.clone(), 1);
  start_over.end = longest.clone();
  let r = store.snapshot_read(vec![start_over]).await;
  assert_error(r, too_large, code);
  // Watched keys are checked as they are.
  store
    .watch(vec![longest], false)
    .expect("2049-byte watch key");
  assert_error(store.watch(vec![over], false), too_large, code);
}

#[tokio::test]
async fn values_and_payloads_are_at_most_65536_bytes() {
  let store = memory();
  let code = "KVQ_VALUE_TOO_LARGE";
  let value_too_large = "Value too large (max 65536 bytes)";
  let bytes = |n: usize| KvValue::Bytes(vec![7; n]);
  kvq_tests::commit(&store, write(vec![set(key(&["v"]), bytes(65536))])).await;
  let r = store
    .atomic_write(write(vec![set(key(&["v"]), bytes(65537))]))
    .await;
  assert_error(r, value_too_large, code);
  let v8 = KvValue::V8(vec![0xff; 65537]);
  let r = store.atomic_write(write(vec![set(key(&["v"]), v8)])).await;
  assert_error(r, value_too_large, code);

  let payload = "enqueue payload too large (max 65536 bytes)";
  let queued = |n: usize| {
    let mut w = write(Vec::new());
    w.enqueues = vec![enqueue(vec![0xff; n], 0, Vec::new(), None)];
    w
  };
  kvq_tests::commit(&store, queued(65536)).await;
  assert_error(store.atomic_write(queued(65537)).await, payload, code);
}

#[tokio::test]
async fn totals_of_an_atomic_are_limited() {
  let store = memory();
  // 2041-byte keys, all different, none with a zero byte.
  let long_key = |i: usize| bytes_key(&[(i + 1) as u8; 2039]);
  assert_eq!(long_key(0).len(), 2041);

  // Keys of value-carrying mutations count twice: 13 x (2 x 2041 + 60000)
  // = 833066 is over 819200; 12 of them are not.
  let big = |n: usize| {
    write(
      (0..n)
        .map(|i| set(long_key(i), KvValue::Bytes(vec![1; 60000])))
        .collect(),
    )
  };
  kvq_tests::commit(&store, big(12)).await;
  let r = store.atomic_write(big(13)).await;
  assert_error(r, "Total mutation size too large (max 819200 bytes)", LIMIT);

  let keys = |n: usize| {
    write(
      (0..n)
        .map(|i| set(long_key(i), KvValue::Bytes(vec![1])))
        .collect(),
    )
  };
  kvq_tests::commit(&store, keys(40)).await;
  let r = store.atomic_write(keys(41)).await;
  assert_error(r, "Total key size too large (max 81920 bytes)", LIMIT);
  // Deletes do not count towards the key total.
  let deletes = (0..41)
    .map(|i| Mutation {
      key: long_key(i),
      kind: MutationKind::Delete,
      expire_at: None,
    })
    .collect();
  kvq_tests::commit(&store, write(deletes)).await;
}

#[tokio::test]
async fn reads_and_watches_are_limited() {
  let store = memory();
  let ranges = |n: usize, limit: u32| {
    (0..n)
      .map(|i| range(key(&["r", &i.to_string()]), limit))
      .collect::<Vec<_>>()
  };
  store.snapshot_read(ranges(10, 1)).await.expect("10 ranges");
  let r = store.snapshot_read(ranges(11, 1)).await;
  assert_error(r, "Too many ranges (max 10)", LIMIT);
  store
    .snapshot_read(ranges(2, 500))
    .await
    .expect("1000 entries");
  let mut over = ranges(2, 500);
  over[1].limit = NonZeroU32::new(501).expect("positive");
  let r = store.snapshot_read(over).await;
  assert_error(r, "Too many entries (max 1000)", LIMIT);

  let keys = |n: usize| (0..n).map(|i| key(&[&i.to_string()])).collect();
  store.watch(keys(10), false).expect("10 keys");
  assert_error(
    store.watch(keys(11), false),
    "Too many keys (max 10)",
    LIMIT,
  );
}

#[tokio::test]
async fn empty_keys_cannot_be_written() {
  let store = memory();
  let empty = "key cannot be empty";
  let code = "KVQ_EMPTY_KEY";
  let r = store
    .atomic_write(write(vec![set(Vec::new(), KvValue::U64(1))]))
    .await;
  assert_error(r, empty, code);
  let delete = Mutation {
    key: Vec::new(),
    kind: MutationKind::Delete,
    expire_at: None,
  };
  assert_error(store.atomic_write(write(vec![delete])).await, empty, code);
  let mut checked = write(Vec::new());
  checked.checks = vec![check(Vec::new())];
  assert_error(store.atomic_write(checked).await, empty, code);
}

#[tokio::test]
async fn sum_min_max_mismatches_have_denos_messages() {
  let store = memory();
  let v8_number = || KvValue::V8(kvq_tests::v8_int(2));
  // BigInt 1: tag 'Z', bitfield (8 bytes << 1, positive), 8 LE digits.
  let v8_bigint =
    || KvValue::V8(vec![0xff, 0x0f, b'Z', 0x10, 1, 0, 0, 0, 0, 0, 0, 0]);
  kvq_tests::commit(
    &store,
    write(vec![
      set(key(&["num"]), v8_number()),
      set(key(&["u"]), KvValue::U64(1)),
      set(key(&["bytes"]), KvValue::Bytes(vec![1])),
    ]),
  )
  .await;
  let code = "KVQ_TYPE_MISMATCH";
  let mutate = |k: &str, kind: MutationKind| {
    write(vec![Mutation {
      key: key(&[k]),
      kind,
      expire_at: None,
    }])
  };
  let cases = [
    (
      mutate("num", MutationKind::Max(KvValue::U64(1))),
      "Failed to perform 'max' mutation on a non-U64 value in the database",
    ),
    (
      mutate("u", MutationKind::Min(v8_number())),
      "Failed to perform 'min' mutation on a non-U64 operand",
    ),
    (
      write(vec![sum(key(&["u"]), v8_number())]),
      "Cannot sum KvU64 with Number",
    ),
    (
      write(vec![sum(key(&["num"]), v8_bigint())]),
      "Cannot sum Number with BigInt",
    ),
    (
      write(vec![sum(key(&["num"]), KvValue::V8(v8_string("x")))]),
      "Some of the parameters are not valid V8 values",
    ),
    (
      write(vec![sum(key(&["bytes"]), v8_number())]),
      "unsupported value type",
    ),
  ];
  for (atomic, message) in cases {
    assert_error(store.atomic_write(atomic).await, message, code);
  }
  // A bigint within u64 range still adds to a stored KvU64.
  kvq_tests::commit(&store, write(vec![sum(key(&["u"]), v8_bigint())])).await;
  let u = kvq_tests::get(&store, &key(&["u"])).await.expect("u");
  assert!(matches!(u.value, KvValue::U64(2)));
}

/// An atomic request in the wire format with one `set` of `expire_in` ms.
fn set_with_expiry(expire_in: f64) -> Vec<u8> {
  let mut w = kvq_core::wire::Writer::default();
  w.u32(0).u32(1).u8(1).bytes(&key(&["e"])).u8(3).bytes(b"v");
  w.f64(expire_in).u32(0);
  w.finish()
}

#[tokio::test]
async fn expire_in_past_a_date_is_refused() {
  let store = memory();
  let ok = kvq_core::ops::atomic_write(&store, &set_with_expiry(1e15)).await;
  assert_eq!(ok[..2], [0, 1], "1e15 ms is accepted and commits");
  for (ms, text) in [
    (8.64e15, "8640000000000000"),
    (9007199254740991.0, "9007199254740991"),
  ] {
    let reply = kvq_core::ops::atomic_write(&store, &set_with_expiry(ms)).await;
    let mut r = kvq_core::wire::Reader::new(&reply);
    assert_eq!(r.u8().expect("status"), 1, "an error reply");
    assert_eq!(r.u8().expect("class"), JsClass::TypeError as u8);
    assert_eq!(r.bytes().expect("code"), b"KVQ_INVALID_EXPIRY");
    let message = format!("Invalid mutation: expireIn is too large: {text}");
    assert_eq!(r.bytes().expect("message"), message.as_bytes());
  }
}

#[tokio::test]
async fn custom_limits_are_applied() {
  let mut options = OpenOptions::default();
  options.limits.max_checks = 2;
  let store = Store::open(None, options).expect("store");
  let mut atomic = write(Vec::new());
  atomic.checks = (0..3).map(|i| check(key(&[&i.to_string()]))).collect();
  let r = store.atomic_write(atomic).await;
  assert_error(r, "Too many checks (max 2)", LIMIT);
}
