//! The engine's types to denokv_proto's KV Connect messages and back, in
//! the client's direction (denokv_proto's own `convert.rs` goes the
//! server's way). Encodings as Deno 2.9.6 sends them (see
//! shared/spec/deno-kv-behaviour.md, section 9.2).

use denokv_proto::datapath as pb;
use denokv_proto::AtomicWrite;
use denokv_proto::KvEntry;
use denokv_proto::KvValue;
use denokv_proto::MutationKind;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use denokv_proto::Versionstamp;

use crate::encoding::encode_value;
use crate::error::Error;
use crate::error::Result;

/// The message of a snapshot read.
pub fn snapshot_read(ranges: &[ReadRange]) -> pb::SnapshotRead {
  pb::SnapshotRead {
    ranges: ranges
      .iter()
      .map(|r| pb::ReadRange {
        start: r.start.clone(),
        end: r.end.clone(),
        limit: i32::try_from(r.limit.get()).unwrap_or(i32::MAX),
        reverse: r.reverse,
      })
      .collect(),
  }
}

fn value(v: &KvValue) -> pb::KvValue {
  let (data, encoding) = encode_value(v);
  pb::KvValue {
    data: data.into_owned(),
    encoding: encoding as i32,
  }
}

/// The message of an atomic write. Enqueues are refused before this (KV
/// Connect has no queue; kvq's queue there is made of keys).
pub fn atomic_write(write: &AtomicWrite) -> pb::AtomicWrite {
  let checks = write
    .checks
    .iter()
    .map(|c| pb::Check {
      key: c.key.clone(),
      versionstamp: c.versionstamp.map(|v| v.to_vec()).unwrap_or_default(),
    })
    .collect();
  let mutations = write
    .mutations
    .iter()
    .map(|m| {
      let mut out = pb::Mutation {
        key: m.key.clone(),
        // 0 means no expiry; an expiry at or before the epoch is sent as 1.
        expire_at_ms: m
          .expire_at
          .map(|t| t.timestamp_millis().max(1))
          .unwrap_or(0),
        ..Default::default()
      };
      let (kind, v) = match &m.kind {
        MutationKind::Set(v) => (pb::MutationType::MSet, Some(value(v))),
        MutationKind::Delete => (
          pb::MutationType::MDelete,
          Some(pb::KvValue {
            data: Vec::new(),
            encoding: pb::ValueEncoding::VeBytes as i32,
          }),
        ),
        MutationKind::Sum {
          value: v,
          min_v8,
          max_v8,
          clamp,
        } => {
          out.sum_min = min_v8.clone();
          out.sum_max = max_v8.clone();
          out.sum_clamp = *clamp;
          (pb::MutationType::MSum, Some(value(v)))
        }
        MutationKind::Min(v) => (pb::MutationType::MMin, Some(value(v))),
        MutationKind::Max(v) => (pb::MutationType::MMax, Some(value(v))),
        MutationKind::SetSuffixVersionstampedKey(v) => (
          pb::MutationType::MSetSuffixVersionstampedKey,
          Some(value(v)),
        ),
      };
      out.mutation_type = kind as i32;
      out.value = v;
      out
    })
    .collect();
  pb::AtomicWrite {
    checks,
    mutations,
    enqueues: Vec::new(),
  }
}

/// The entries of a snapshot read's answer. `version` is the negotiated
/// protocol version (3 adds `status`).
pub fn read_output(
  out: pb::SnapshotReadOutput,
  version: u64,
) -> Result<Vec<ReadRangeOutput>> {
  if out.read_disabled
    || out.status == pb::SnapshotReadStatus::SrReadDisabled as i32
  {
    return Err(Error::Remote("Reads are disabled for this database".into()));
  }
  if version >= 3 && out.status != pb::SnapshotReadStatus::SrSuccess as i32 {
    return Err(Error::Remote(format!(
      "Unspecified read error (code={})",
      out.status
    )));
  }
  if !out.read_is_strongly_consistent {
    return Err(Error::Remote(
      "Strong consistency reads are not available for this database".into(),
    ));
  }
  out
    .ranges
    .into_iter()
    .map(|r| {
      let entries = r.values.into_iter().map(entry).collect::<Result<_>>()?;
      Ok(ReadRangeOutput { entries })
    })
    .collect()
}

/// One entry of an answer (a snapshot read's or a watch's).
pub fn entry(e: pb::KvEntry) -> Result<KvEntry> {
  let versionstamp: Versionstamp =
    e.versionstamp.as_slice().try_into().map_err(|_| {
      Error::Remote("KV Connect failed to decode response".into())
    })?;
  let value = crate::encoding::decode_value(e.value, i64::from(e.encoding))?;
  Ok(KvEntry {
    key: e.key,
    value,
    versionstamp,
  })
}

/// The outcome of an atomic write: the versionstamp, or `None` when a
/// check failed.
pub fn write_output(
  out: pb::AtomicWriteOutput,
) -> Result<Option<Versionstamp>> {
  match pb::AtomicWriteStatus::try_from(out.status) {
    Ok(pb::AtomicWriteStatus::AwSuccess) => {
      let stamp: Versionstamp =
        out.versionstamp.as_slice().try_into().map_err(|_| {
          Error::Remote("KV Connect failed to decode response".into())
        })?;
      Ok(Some(stamp))
    }
    Ok(pb::AtomicWriteStatus::AwCheckFailure) => Ok(None),
    Ok(pb::AtomicWriteStatus::AwWriteDisabled) => Err(Error::Remote(
      "Writes are disabled for this database".into(),
    )),
    _ => Err(Error::Remote("Unspecified write error".into())),
  }
}

#[cfg(test)]
mod tests {
  use std::num::NonZeroU32;

  use super::*;

  #[test]
  fn a_get_goes_out_as_deno_sends_it() {
    let range = ReadRange {
      start: vec![2, b'a', 0],
      end: vec![2, b'a', 0, 0],
      limit: NonZeroU32::MIN,
      reverse: false,
    };
    let m = snapshot_read(&[range]);
    assert_eq!(m.ranges[0].limit, 1);
    assert_eq!(m.ranges[0].end, vec![2, b'a', 0, 0]);
  }

  #[test]
  fn min_and_max_use_deno_numbers() {
    let write = AtomicWrite {
      checks: vec![],
      mutations: vec![
        denokv_proto::Mutation {
          key: vec![1],
          kind: MutationKind::Min(KvValue::U64(1)),
          expire_at: None,
        },
        denokv_proto::Mutation {
          key: vec![1],
          kind: MutationKind::Max(KvValue::U64(1)),
          expire_at: None,
        },
      ],
      enqueues: vec![],
    };
    let m = atomic_write(&write);
    assert_eq!(m.mutations[0].mutation_type, 5);
    assert_eq!(m.mutations[1].mutation_type, 4);
    assert_eq!(m.mutations[0].value.as_ref().map(|v| v.encoding), Some(2));
  }

  #[test]
  fn a_short_le64_is_an_error_not_a_panic() {
    let e = pb::KvEntry {
      key: vec![1],
      value: vec![1, 2],
      encoding: 2,
      versionstamp: vec![0; 10],
    };
    assert!(entry(e).is_err());
  }
}
