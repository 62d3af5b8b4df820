//! The KV half of the Postgres backend: what one atomic write does, worked
//! out in memory from the rows it reads, and the rows a read returns.
//!
//! A write needs the database only for its checks and its sum/min/max
//! operands; those rows are fetched in one statement (with the version
//! counter's lock, on the turn's first write). Everything else it does is
//! buffered in the turn ([`KvBuffer`]) and sent in bulk with the next
//! statement or the commit. A write that fails (a sum on the wrong type)
//! has buffered nothing, so it fails alone without a savepoint.

use std::collections::HashMap;

use denokv_proto::AtomicWrite;
use denokv_proto::KvEntry;
use denokv_proto::KvValue;
use denokv_proto::MutationKind;
use denokv_proto::ReadRangeOutput;
use denokv_proto::Versionstamp;
use tokio_postgres::Row;

use super::pipeline::Param;
use super::pipeline::Stmt;
use super::queue::NewMessage;
use super::schema::Sql;
use crate::encoding::decode_value;
use crate::encoding::encode_value;
use crate::encoding::version_of;
use crate::encoding::versionstamp;
use crate::engine::Applied;
use crate::error::Error;
use crate::error::Result;
use crate::sum;

/// A key's state as the turn will leave it.
#[derive(Clone, Debug)]
pub enum Pending {
  /// Written with this value and version.
  Put {
    /// The value's bytes.
    value: Vec<u8>,
    /// 1 = V8, 2 = KvU64, 3 = bytes.
    encoding: i16,
    /// The commit's version.
    version: i64,
    /// Epoch ms, or none.
    expires_at: Option<i64>,
  },
  /// Deleted.
  Delete,
}

/// KV rows a turn has decided on but not yet sent.
#[derive(Default)]
pub struct KvBuffer {
  keys: HashMap<Vec<u8>, Pending>,
}

impl KvBuffer {
  /// Records a key's new state; a later state of the same key replaces an
  /// earlier one (it committed later).
  pub fn put(&mut self, key: Vec<u8>, state: Pending) {
    self.keys.insert(key, state);
  }

  /// Whether nothing waits.
  pub fn is_empty(&self) -> bool {
    self.keys.is_empty()
  }

  /// The statements that write everything buffered, emptying the buffer.
  pub fn drain(&mut self, sql: &Sql) -> Vec<Stmt> {
    let rows = self.take();
    let mut out = Vec::new();
    if !rows.deleted.is_empty() {
      out.push(Stmt::new(&sql.delete_many, vec![Box::new(rows.deleted)]));
    }
    if !rows.keys.is_empty() {
      let params: Vec<Param> = vec![
        Box::new(rows.keys),
        Box::new(rows.values),
        Box::new(rows.encodings),
        Box::new(rows.versions),
        Box::new(rows.expiries),
      ];
      out.push(Stmt::new(&sql.upsert_many, params));
    }
    out
  }

  /// Everything buffered, as the arrays the statements take, emptying
  /// the buffer.
  pub fn take(&mut self) -> KvRows {
    let mut rows = KvRows::default();
    for (key, state) in self.keys.drain() {
      match state {
        Pending::Put {
          value,
          encoding,
          version,
          expires_at,
        } => {
          rows.keys.push(key);
          rows.values.push(value);
          rows.encodings.push(encoding);
          rows.versions.push(version);
          rows.expiries.push(expires_at);
        }
        Pending::Delete => rows.deleted.push(key),
      }
    }
    rows
  }
}

/// A turn's KV rows as arrays, one element per key.
#[derive(Default)]
pub struct KvRows {
  /// Keys deleted.
  pub deleted: Vec<Vec<u8>>,
  /// Keys written, and their values, encodings, versions and expiries.
  pub keys: Vec<Vec<u8>>,
  pub values: Vec<Vec<u8>>,
  pub encodings: Vec<i16>,
  pub versions: Vec<i64>,
  pub expiries: Vec<Option<i64>>,
}

/// A stored, unexpired entry.
#[derive(Debug)]
pub struct Stored {
  /// Its value.
  pub value: KvValue,
  /// Its version.
  pub version: i64,
}

/// The keys a write must read before it can be decided: its checks' and
/// its sum/min/max operands'.
pub fn keys_to_read(write: &AtomicWrite) -> Vec<Vec<u8>> {
  let mut keys: Vec<Vec<u8>> =
    write.checks.iter().map(|c| c.key.clone()).collect();
  for m in &write.mutations {
    if matches!(
      m.kind,
      MutationKind::Sum { .. } | MutationKind::Min(_) | MutationKind::Max(_)
    ) {
      keys.push(m.key.clone());
    }
  }
  keys.sort();
  keys.dedup();
  keys
}

/// Whether the write can be decided without the database and without its
/// version: no checks, no sum/min/max operands to read, and no key that
/// holds the versionstamp. Its rows can then go out with the statement
/// that moves the version counter, in the same round trip as the commit.
pub fn is_blind(write: &AtomicWrite) -> bool {
  keys_to_read(write).is_empty()
    && !write
      .mutations
      .iter()
      .any(|m| matches!(m.kind, MutationKind::SetSuffixVersionstampedKey(_)))
}

/// Rows of `get_many` (k, v, v_encoding, version) by key.
pub fn stored_by_key(rows: &[Row]) -> Result<HashMap<Vec<u8>, Stored>> {
  let mut out = HashMap::with_capacity(rows.len());
  for row in rows {
    let key: Vec<u8> = row.try_get(0).map_err(column)?;
    let entry = entry_of(row)?;
    out.insert(
      key,
      Stored {
        value: entry.value,
        version: version_of(&entry.versionstamp),
      },
    );
  }
  Ok(out)
}

/// What one write decided: nothing yet sent.
pub struct Decided {
  /// What the engine learns of it.
  pub applied: Applied,
  /// Its keys' new states, in order.
  pub keys: Vec<(Vec<u8>, Pending)>,
  /// Its messages.
  pub messages: Vec<NewMessage>,
}

/// Decides one atomic write at `version`, from the stored state of the
/// keys [`keys_to_read`] named. `None`: a check failed, nothing happens.
pub fn decide(
  write: &AtomicWrite,
  stored: &HashMap<Vec<u8>, Stored>,
  version: i64,
) -> Result<Option<Decided>> {
  for check in &write.checks {
    let at = stored.get(&check.key).map(|s| versionstamp(s.version));
    if at != check.versionstamp {
      return Ok(None);
    }
  }
  let versionstamp = versionstamp(version);
  let mut applied = Applied {
    versionstamp: Some(versionstamp),
    ..Applied::default()
  };
  // This write's own states, so a sum after a set of the same key sees it.
  let mut mine: HashMap<Vec<u8>, Option<KvValue>> = HashMap::new();
  let mut keys = Vec::with_capacity(write.mutations.len());
  for mutation in &write.mutations {
    let expires_at = mutation.expire_at.map(|t| t.timestamp_millis());
    if let Some(ms) = expires_at {
      applied.earliest_expiry =
        Some(applied.earliest_expiry.map_or(ms, |e: i64| e.min(ms)));
    }
    let key = &mutation.key;
    let current = |mine: &HashMap<Vec<u8>, Option<KvValue>>| match mine.get(key)
    {
      Some(v) => v.as_ref().map(clone_value),
      None => stored.get(key).map(|s| clone_value(&s.value)),
    };
    let (key, next, expires_at) = match &mutation.kind {
      MutationKind::Set(value) => {
        (key.clone(), Some(clone_value(value)), expires_at)
      }
      MutationKind::Delete => (key.clone(), None, None),
      MutationKind::SetSuffixVersionstampedKey(value) => {
        let full = crate::encoding::versionstamped_key(key, &versionstamp);
        (full, Some(clone_value(value)), expires_at)
      }
      MutationKind::Sum { value, .. } => {
        let next = sum::apply(sum::Arith::Sum, current(&mine), value)?;
        (key.clone(), Some(next), None)
      }
      MutationKind::Min(value) => {
        let next = sum::apply(sum::Arith::Min, current(&mine), value)?;
        (key.clone(), Some(next), None)
      }
      MutationKind::Max(value) => {
        let next = sum::apply(sum::Arith::Max, current(&mine), value)?;
        (key.clone(), Some(next), None)
      }
    };
    let state = match &next {
      Some(value) => {
        let (value, encoding) = encode_value(value);
        Pending::Put {
          value: value.into_owned(),
          // Deno's codes are 1 to 3: they fit the smallint column.
          encoding: encoding as i16,
          version,
          expires_at,
        }
      }
      None => Pending::Delete,
    };
    mine.insert(key.clone(), next);
    applied.changed_keys.push(key.clone());
    keys.push((key, state));
  }
  let mut messages = Vec::with_capacity(write.enqueues.len());
  for enqueue in &write.enqueues {
    let message = NewMessage::from_enqueue(enqueue)?;
    applied.earliest_enqueue = Some(
      applied
        .earliest_enqueue
        .map_or(message.ts, |e: i64| e.min(message.ts)),
    );
    messages.push(message);
  }
  Ok(Some(Decided {
    applied,
    keys,
    messages,
  }))
}

/// A dead-lettered message's value under `keys`, at `version`.
pub fn dead_letters(
  keys: &[Vec<u8>],
  payload: &[u8],
  version: i64,
) -> Vec<(Vec<u8>, Pending)> {
  keys
    .iter()
    .map(|k| {
      let state = Pending::Put {
        value: payload.to_vec(),
        encoding: 1,
        version,
        expires_at: None,
      };
      (k.clone(), state)
    })
    .collect()
}

/// The entries of a range read's rows (k, v, v_encoding, version).
pub fn range_output(rows: &[Row]) -> Result<ReadRangeOutput> {
  let mut entries = Vec::with_capacity(rows.len());
  for row in rows {
    let key: Vec<u8> = row.try_get(0).map_err(column)?;
    let entry = entry_of(row)?;
    entries.push(KvEntry {
      key,
      value: entry.value,
      versionstamp: entry.versionstamp,
    });
  }
  Ok(ReadRangeOutput { entries })
}

struct Entry {
  value: KvValue,
  versionstamp: Versionstamp,
}

fn entry_of(row: &Row) -> Result<Entry> {
  let bytes: Vec<u8> = row.try_get(1).map_err(column)?;
  let encoding: i16 = row.try_get(2).map_err(column)?;
  let version: i64 = row.try_get(3).map_err(column)?;
  Ok(Entry {
    value: decode_value(bytes, i64::from(encoding))?,
    versionstamp: versionstamp(version),
  })
}

fn column(e: tokio_postgres::Error) -> Error {
  Error::Postgres(format!("reading a row: {e}"))
}

fn clone_value(value: &KvValue) -> KvValue {
  match value {
    KvValue::V8(v) => KvValue::V8(v.clone()),
    KvValue::Bytes(v) => KvValue::Bytes(v.clone()),
    KvValue::U64(n) => KvValue::U64(*n),
  }
}

#[cfg(test)]
mod tests {
  use denokv_proto::Check;
  use denokv_proto::Mutation;

  use super::*;

  fn set(key: &[u8], value: KvValue) -> Mutation {
    Mutation {
      key: key.to_vec(),
      kind: MutationKind::Set(value),
      expire_at: None,
    }
  }

  fn write(checks: Vec<Check>, mutations: Vec<Mutation>) -> AtomicWrite {
    AtomicWrite {
      checks,
      mutations,
      enqueues: Vec::new(),
    }
  }

  #[test]
  fn a_failed_check_decides_nothing() -> Result<()> {
    let w = write(
      vec![Check {
        key: b"a".to_vec(),
        versionstamp: None,
      }],
      vec![set(b"a", KvValue::U64(1))],
    );
    let mut stored = HashMap::new();
    stored.insert(
      b"a".to_vec(),
      Stored {
        value: KvValue::U64(0),
        version: 5,
      },
    );
    assert!(decide(&w, &stored, 9)?.is_none());
    assert!(decide(&w, &HashMap::new(), 9)?.is_some());
    Ok(())
  }

  #[test]
  fn a_sum_sees_an_earlier_set_of_the_same_write() -> Result<()> {
    let w = write(
      Vec::new(),
      vec![
        set(b"n", KvValue::U64(40)),
        Mutation {
          key: b"n".to_vec(),
          kind: MutationKind::Sum {
            value: KvValue::U64(2),
            min_v8: Vec::new(),
            max_v8: Vec::new(),
            clamp: false,
          },
          expire_at: None,
        },
      ],
    );
    let decided = decide(&w, &HashMap::new(), 3)?.ok_or(Error::Closed)?;
    let last = decided.keys.last().map(|(_, s)| s.clone());
    assert!(matches!(
      last,
      Some(Pending::Put { value, encoding: 2, version: 3, .. })
        if value == 42u64.to_le_bytes()
    ));
    Ok(())
  }

  #[test]
  fn versionstamps_round_trip() {
    let vs = versionstamp(0x0102);
    assert_eq!(vs, [0, 0, 0, 0, 0, 0, 1, 2, 0, 0]);
    assert_eq!(version_of(&vs), 0x0102);
  }
}
