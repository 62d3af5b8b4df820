//! How values and versions are stored, the same on every backend: Deno's
//! value encodings (1 = V8, 2 = little-endian u64, 3 = bytes) and its
//! versionstamps (the big-endian commit version, then two zero bytes).

use std::borrow::Cow;

use denokv_proto::KvValue;
use denokv_proto::Versionstamp;
use rand::Rng;

use crate::error::Error;
use crate::error::Result;

/// Turns a stored value into a [`KvValue`], refusing encodings Deno would
/// panic on (an unknown code, an LE64 that is not 8 bytes).
pub fn decode_value(bytes: Vec<u8>, encoding: i64) -> Result<KvValue> {
  match encoding {
    1 => Ok(KvValue::V8(bytes)),
    3 => Ok(KvValue::Bytes(bytes)),
    2 => {
      let raw: [u8; 8] = bytes
        .as_slice()
        .try_into()
        .map_err(|_| Error::UnknownValueEncoding(encoding))?;
      Ok(KvValue::U64(u64::from_le_bytes(raw)))
    }
    other => Err(Error::UnknownValueEncoding(other)),
  }
}

/// A value's stored bytes and encoding code.
pub fn encode_value(value: &KvValue) -> (Cow<'_, [u8]>, i64) {
  match value {
    KvValue::V8(v) => (v.into(), 1),
    KvValue::Bytes(v) => (v.into(), 3),
    KvValue::U64(n) => (n.to_le_bytes().to_vec().into(), 2),
  }
}

/// The versionstamp of commit version `version`.
pub fn versionstamp(version: i64) -> Versionstamp {
  let mut vs = [0; 10];
  vs[..8].copy_from_slice(&version.to_be_bytes());
  vs
}

/// The commit version a versionstamp carries.
pub fn version_of(vs: &Versionstamp) -> i64 {
  let mut raw = [0; 8];
  raw.copy_from_slice(&vs[..8]);
  i64::from_be_bytes(raw)
}

/// The key a `setSuffixVersionstampedKey` mutation writes: `key` with the
/// commit's versionstamp appended as one more part (a string of 20 hex
/// characters, in Deno's key encoding).
pub fn versionstamped_key(key: &[u8], vs: &Versionstamp) -> Vec<u8> {
  let mut full = Vec::with_capacity(key.len() + 22);
  full.extend_from_slice(key);
  full.push(0x02);
  full.extend_from_slice(hex::encode(vs).as_bytes());
  full.push(0x00);
  full
}

/// A random version increment in Deno's range (1..=9).
pub fn version_step() -> i64 {
  rand::thread_rng().gen_range(1..10)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn versionstamps_carry_their_version_and_sort_by_it() {
    assert_eq!(versionstamp(0x0102), [0, 0, 0, 0, 0, 0, 1, 2, 0, 0]);
    assert_eq!(version_of(&versionstamp(77)), 77);
    assert!(versionstamp(255) < versionstamp(256));
  }

  #[test]
  fn a_versionstamped_key_is_the_key_with_the_stamp_as_a_string_part() {
    use denokv_proto::encode_key;
    use denokv_proto::Key;
    use denokv_proto::KeyPart;
    let vs = versionstamp(0x0102_0304);
    let key =
      encode_key(&Key(vec![KeyPart::String("a".into())])).expect("encodes");
    let whole = encode_key(&Key(vec![
      KeyPart::String("a".into()),
      KeyPart::String(hex::encode(vs)),
    ]))
    .expect("encodes");
    assert_eq!(versionstamped_key(&key, &vs), whole);
  }

  #[test]
  fn values_round_trip_and_bad_encodings_are_refused() {
    for v in [
      KvValue::V8(vec![1, 2]),
      KvValue::Bytes(vec![3]),
      KvValue::U64(u64::MAX),
    ] {
      let (bytes, code) = encode_value(&v);
      let back = decode_value(bytes.into_owned(), code).expect("decodes");
      assert_eq!(encode_value(&back), encode_value(&v));
    }
    assert!(decode_value(vec![1, 2, 3], 2).is_err());
    assert!(decode_value(vec![], 9).is_err());
  }
}
