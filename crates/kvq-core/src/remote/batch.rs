//! The order a turn's writes keep when they go to the server at once.
//!
//! Over KV Connect every atomic write is a commit of its own, which the
//! server orders as the requests arrive (Deno's own client sends them
//! side by side). Sent together, a turn's writes may land in any order:
//! for writes of different keys nobody can tell, but a program that sets a
//! key twice without awaiting expects the second value, as it gets on
//! SQLite. So writes go in waves: a write joins the first wave after every
//! earlier write of the turn that touches one of its keys in a way that
//! does not commute with it, and a wave is sent once the one before it
//! has its answers. What commutes: checks of one key (neither changes
//! it), sums of one key (a queue's wake-up counter, which every enqueue
//! bumps), mins, maxes. A write to a versionstamped key makes a new key
//! and touches nothing.

use std::collections::HashMap;

use denokv_proto::AtomicWrite;
use denokv_proto::MutationKind;

/// How a write touches a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
  Check,
  Sum,
  Min,
  Max,
  /// A set or a delete (or a clamped sum): order matters against anything.
  Other,
}

const ACCESSES: [Access; 5] = [
  Access::Check,
  Access::Sum,
  Access::Min,
  Access::Max,
  Access::Other,
];

impl Access {
  fn of(kind: &MutationKind) -> Option<Access> {
    match kind {
      MutationKind::Sum { clamp: false, .. } => Some(Access::Sum),
      MutationKind::Min(_) => Some(Access::Min),
      MutationKind::Max(_) => Some(Access::Max),
      MutationKind::SetSuffixVersionstampedKey(_) => None,
      MutationKind::Set(_)
      | MutationKind::Delete
      | MutationKind::Sum { clamp: true, .. } => Some(Access::Other),
    }
  }

  fn index(self) -> usize {
    self as usize
  }

  /// Whether two accesses of one key may land in either order.
  fn commutes(self, other: Access) -> bool {
    self == other && self != Access::Other
  }
}

/// The keys `write` touches, and how.
fn touches(write: &AtomicWrite) -> impl Iterator<Item = (&[u8], Access)> {
  let checks = write.checks.iter().map(|c| (&c.key[..], Access::Check));
  let mutations = write
    .mutations
    .iter()
    .filter_map(|m| Access::of(&m.kind).map(|a| (&m.key[..], a)));
  checks.chain(mutations)
}

/// Splits `writes` into waves, each a list of indexes into `writes` in
/// their order; see the module comment. Writes of distinct keys all share
/// the first wave.
pub fn waves(writes: &[&AtomicWrite]) -> Vec<Vec<usize>> {
  // Per key and kind of access: the latest wave holding such an access.
  let mut latest: HashMap<&[u8], [Option<usize>; ACCESSES.len()]> =
    HashMap::new();
  let mut waves: Vec<Vec<usize>> = Vec::new();
  for (i, write) in writes.iter().enumerate() {
    let mut wave = 0;
    for (key, access) in touches(write) {
      let Some(seen) = latest.get(key) else {
        continue;
      };
      for other in ACCESSES {
        if let Some(w) = seen[other.index()] {
          if !access.commutes(other) {
            wave = wave.max(w + 1);
          }
        }
      }
    }
    for (key, access) in touches(write) {
      let slot = &mut latest.entry(key).or_default()[access.index()];
      *slot = Some(slot.map_or(wave, |w| w.max(wave)));
    }
    if waves.len() <= wave {
      waves.resize_with(wave + 1, Vec::new);
    }
    waves[wave].push(i);
  }
  waves
}

#[cfg(test)]
mod tests {
  use denokv_proto::Check;
  use denokv_proto::KvValue;
  use denokv_proto::Mutation;

  use super::*;

  type Kind = fn() -> MutationKind;

  fn write(checks: &[&[u8]], mutations: &[(&[u8], Kind)]) -> AtomicWrite {
    AtomicWrite {
      checks: checks
        .iter()
        .map(|k| Check {
          key: k.to_vec(),
          versionstamp: None,
        })
        .collect(),
      mutations: mutations
        .iter()
        .map(|(k, kind)| Mutation {
          key: k.to_vec(),
          kind: kind(),
          expire_at: None,
        })
        .collect(),
      enqueues: Vec::new(),
    }
  }

  fn set() -> MutationKind {
    MutationKind::Set(KvValue::Bytes(vec![1]))
  }

  fn delete() -> MutationKind {
    MutationKind::Delete
  }

  fn stamped() -> MutationKind {
    MutationKind::SetSuffixVersionstampedKey(KvValue::U64(1))
  }

  fn sum() -> MutationKind {
    MutationKind::Sum {
      value: KvValue::U64(1),
      min_v8: Vec::new(),
      max_v8: Vec::new(),
      clamp: false,
    }
  }

  fn plan(writes: &[AtomicWrite]) -> Vec<Vec<usize>> {
    waves(&writes.iter().collect::<Vec<_>>())
  }

  #[test]
  fn distinct_keys_share_one_wave() {
    let w = [write(&[], &[(b"a", set)]), write(&[b"b"], &[(b"c", set)])];
    assert_eq!(plan(&w), vec![vec![0, 1]]);
  }

  #[test]
  fn a_key_written_twice_keeps_its_order() {
    let w = [
      write(&[], &[(b"a", set)]),
      write(&[], &[(b"b", set)]),
      write(&[], &[(b"a", delete)]),
      write(&[b"a"], &[]),
    ];
    assert_eq!(plan(&w), vec![vec![0, 1], vec![2], vec![3]]);
  }

  #[test]
  fn sums_and_checks_commute_among_themselves() {
    let w = [
      write(&[b"m1"], &[(b"m1", delete), (b"wake", sum)]),
      write(&[b"m2"], &[(b"m2", delete), (b"wake", sum)]),
      write(&[b"x"], &[]),
      write(&[b"x"], &[]),
      write(&[b"wake"], &[]),
    ];
    assert_eq!(plan(&w), vec![vec![0, 1, 2, 3], vec![4]]);
  }

  #[test]
  fn versionstamped_keys_touch_nothing() {
    let w = [
      write(&[], &[(b"p", stamped)]),
      write(&[], &[(b"p", stamped)]),
    ];
    assert_eq!(plan(&w), vec![vec![0, 1]]);
  }
}
