//! The size and count limits of local Deno KV, as one value.
//!
//! The defaults are Deno 2.9.6's (ext/kv/config.rs). They are data, checked
//! at the edge of the engine before anything reaches storage, in the order
//! Deno checks them, so the first limit a request breaks is the one named.

use crate::error::Error;
use crate::error::Result;
use denokv_proto::AtomicWrite;
use denokv_proto::KvValue;
use denokv_proto::MutationKind;
use denokv_proto::ReadRange;

/// Limits applied to every request; build with [`Limits::default`] and
/// adjust fields as needed.
#[derive(Clone, Debug)]
pub struct Limits {
  /// Longest encoded key a write, delete, sum or check may use.
  pub max_write_key_size_bytes: usize,
  /// Longest encoded key a read, range bound or watch may use.
  pub max_read_key_size_bytes: usize,
  /// Largest value (V8 bytes, raw bytes, or 8 for a KvU64).
  pub max_value_size_bytes: usize,
  /// Most ranges in one snapshot read (getMany keys).
  pub max_read_ranges: usize,
  /// Most entries one snapshot read may ask for, summed over its ranges.
  pub max_read_entries: usize,
  /// Most checks in one atomic write.
  pub max_checks: usize,
  /// Most mutations plus enqueues in one atomic write.
  pub max_mutations: usize,
  /// Largest total size of an atomic write (see [`Limits::check_atomic`]).
  pub max_total_mutation_size_bytes: usize,
  /// Largest total size of the keys of value-carrying mutations.
  pub max_total_key_size_bytes: usize,
  /// Most keys one watch may observe.
  pub max_watched_keys: usize,
}

impl Default for Limits {
  fn default() -> Self {
    Limits {
      max_write_key_size_bytes: 2048,
      max_read_key_size_bytes: 2049,
      max_value_size_bytes: 65536,
      max_read_ranges: 10,
      max_read_entries: 1000,
      max_checks: 100,
      max_mutations: 1000,
      max_total_mutation_size_bytes: 800 * 1024,
      max_total_key_size_bytes: 80 * 1024,
      max_watched_keys: 10,
    }
  }
}

fn value_size(value: &KvValue) -> usize {
  match value {
    KvValue::V8(v) | KvValue::Bytes(v) => v.len(),
    KvValue::U64(_) => 8,
  }
}

impl Limits {
  fn check_write_key(&self, key: &[u8]) -> Result<usize> {
    if key.is_empty() {
      return Err(Error::EmptyKey);
    }
    if key.len() > self.max_write_key_size_bytes {
      return Err(Error::KeyTooLargeToWrite(self.max_write_key_size_bytes));
    }
    Ok(key.len())
  }

  /// Checks one read key (a get, a range bound or a watched key).
  pub fn check_read_key(&self, key: &[u8]) -> Result<()> {
    if key.len() > self.max_read_key_size_bytes {
      return Err(Error::KeyTooLargeToRead(self.max_read_key_size_bytes));
    }
    Ok(())
  }

  /// Checks a snapshot read: range count, summed limits, key sizes.
  pub fn check_read(&self, ranges: &[ReadRange]) -> Result<()> {
    if ranges.len() > self.max_read_ranges {
      return Err(Error::TooManyRanges(self.max_read_ranges));
    }
    let entries: usize = ranges.iter().map(|r| r.limit.get() as usize).sum();
    if entries > self.max_read_entries {
      return Err(Error::TooManyEntries(self.max_read_entries));
    }
    for range in ranges {
      self.check_read_key(&range.start)?;
      self.check_read_key(&range.end)?;
    }
    Ok(())
  }

  /// Checks a watch request's key count and key sizes.
  pub fn check_watch(&self, keys: &[Vec<u8>]) -> Result<()> {
    if keys.len() > self.max_watched_keys {
      return Err(Error::TooManyWatchedKeys(self.max_watched_keys));
    }
    keys.iter().try_for_each(|k| self.check_read_key(k))
  }

  /// Checks an atomic write in Deno's order: counts, keys, values, payloads,
  /// then the totals. The total mutation size counts every check and
  /// mutation key, the key and value of every value-carrying mutation once
  /// more, and every enqueue's payload plus 4 bytes per backoff interval.
  pub fn check_atomic(&self, write: &AtomicWrite) -> Result<()> {
    if write.checks.len() > self.max_checks {
      return Err(Error::TooManyChecks(self.max_checks));
    }
    if write.mutations.len() + write.enqueues.len() > self.max_mutations {
      return Err(Error::TooManyMutations(self.max_mutations));
    }
    let mut total_size = 0usize;
    let mut total_key_size = 0usize;
    for check in &write.checks {
      total_size += self.check_write_key(&check.key)?;
    }
    for mutation in &write.mutations {
      let key_size = self.check_write_key(&mutation.key)?;
      total_size += key_size;
      if let Some(value) = mutation.kind.value() {
        total_size += key_size + value_size(value);
        total_key_size += key_size;
      }
    }
    for mutation in &write.mutations {
      if let Some(value) = mutation.kind.value() {
        if value_size(value) > self.max_value_size_bytes {
          return Err(Error::ValueTooLarge(self.max_value_size_bytes));
        }
      }
      if let MutationKind::Sum { min_v8, max_v8, .. } = &mutation.kind {
        if min_v8.len().max(max_v8.len()) > self.max_value_size_bytes {
          return Err(Error::ValueTooLarge(self.max_value_size_bytes));
        }
      }
    }
    for enqueue in &write.enqueues {
      if enqueue.payload.len() > self.max_value_size_bytes {
        return Err(Error::EnqueuePayloadTooLarge(self.max_value_size_bytes));
      }
      let intervals = enqueue.backoff_schedule.as_ref().map_or(0, Vec::len);
      total_size += enqueue.payload.len() + 4 * intervals;
    }
    if total_size > self.max_total_mutation_size_bytes {
      return Err(Error::TotalMutationTooLarge(
        self.max_total_mutation_size_bytes,
      ));
    }
    if total_key_size > self.max_total_key_size_bytes {
      return Err(Error::TotalKeyTooLarge(self.max_total_key_size_bytes));
    }
    Ok(())
  }
}
