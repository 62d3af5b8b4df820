//! One write transaction: the jobs a turn of the worker decided on, run
//! against the backend in a fixed order, each job a function of its own.
//!
//! Nothing here is kept once the turn ends: [`Done`] carries what each job
//! did back to the worker, which acts on it only after the commit
//! succeeded (replies, the running set, timers, watchers). The order
//! matters: outcomes are recorded before lapsed leases are swept (so a
//! handled message is acknowledged, not retried), and claims come last (so
//! a message enqueued or released in this turn can be handed out by it;
//! nothing after a claim changes anything, so a backend may send its
//! commit with the claim, as Postgres does).

use std::collections::HashSet;
use std::sync::Arc;

use denokv_proto::AtomicWrite;

use super::backend::Applied;
use super::backend::Backend;
use super::backend::Claimed;
use super::backend::Failed;
use super::backend::LeaseKey;
use super::named::NamedApplied;
use super::named::NamedWrite;
use super::Outcome;
use crate::error::Error;
use crate::error::Result;

/// What one turn's transaction is to do.
#[derive(Default)]
pub struct Jobs<'a> {
  /// Users' atomic writes, each all-or-nothing.
  pub writes: Vec<&'a AtomicWrite>,
  /// Named enqueues, each batch all-or-nothing (with its atomic write).
  pub named_writes: Vec<&'a NamedWrite>,
  /// Handler outcomes, by lease.
  pub outcomes: Vec<(LeaseKey, Outcome)>,
  /// Leases that lapsed and are taken back as failed attempts.
  pub lapsed: Vec<LeaseKey>,
  /// Claimed messages nobody will run: back to the queue, not counted.
  pub orphaned: Vec<LeaseKey>,
  /// Whether to delete expired entries.
  pub expire: bool,
  /// Leases to extend, each by its length in ms.
  pub renew: Vec<(LeaseKey, i64)>,
  /// How many due messages to claim, if any listener waits.
  pub claim: Option<usize>,
  /// Per named queue a listener waits on: how many to claim, and whether
  /// one is known to be due (else only if the turn moved the queue).
  /// And how long those claims last, in ms.
  pub claim_named: Vec<(Arc<str>, usize, bool, i64)>,
  /// How long a claim or a renewal lasts, from the turn's clock.
  pub lease_ms: i64,
  /// Whether a message is known to be due now.
  pub due: bool,
}

/// What the jobs did, in the order of [`Jobs`].
#[derive(Default)]
pub struct Done {
  /// Per write: its outcome (an error here undid that write alone).
  pub writes: Vec<Result<Applied>>,
  /// Per named write: its outcome.
  pub named_writes: Vec<Result<NamedApplied>>,
  /// Keys written, for watchers.
  pub changed_keys: Vec<Vec<u8>>,
  /// Messages moved aside because they could not be read.
  pub set_aside: u64,
  /// Per renewed lease, whether it was still ours.
  pub renewed: Vec<bool>,
  /// Per renewed lease, its new end.
  pub renewed_until: Vec<i64>,
  /// Messages now leased.
  pub claimed: Vec<Claimed>,
  /// Named messages now leased, by queue.
  pub claimed_named: Vec<(Arc<str>, Vec<Claimed>)>,
  /// Named queues whose earliest due time may have moved.
  pub named_moved: HashSet<Arc<str>>,
  /// The earliest due time of each named queue claimed from.
  pub next_named: Vec<(Arc<str>, Option<i64>)>,
  /// Whether the queue's earliest due time may have moved.
  pub queue_moved: bool,
  /// Whether the earliest expiry may have moved.
  pub expiry_moved: bool,
  /// The earliest due time after the turn, when `queue_moved`.
  pub next_ready: Option<i64>,
  /// The earliest expiry after the turn, when `expiry_moved`.
  pub next_expiry: Option<i64>,
  /// The expiry moved but was not asked (see [`run`]): ask again.
  pub expiry_unknown: bool,
}

/// Runs every job inside the open transaction. A storage error fails the
/// whole turn (the caller rolls back); any other error fails one write.
pub fn run(b: &mut dyn Backend, jobs: &Jobs, now: i64) -> Result<Done> {
  let mut done = Done::default();
  apply_writes(b, &jobs.writes, now, &mut done)?;
  apply_named(b, &jobs.named_writes, now, &mut done)?;
  for (lease, outcome) in &jobs.outcomes {
    record_outcome(b, lease, outcome, now, &mut done)?;
  }
  for lease in &jobs.lapsed {
    let failed = b.fail(lease, now)?;
    note_failure(failed, &mut done);
    moved(lease, &mut done);
  }
  for lease in &jobs.orphaned {
    b.release(lease, now)?;
    moved(lease, &mut done);
  }
  if jobs.expire {
    done.changed_keys.extend(b.collect_expired(now)?);
    done.expiry_moved = true;
  }
  // Before the claim: a backend may commit with the claim (Postgres), and
  // nothing that can fail may follow claimed messages, or they would sit
  // leased to nobody. Writes a backend committed on their own leave the
  // earliest expiry to be asked again (no question may fail after them).
  if done.expiry_moved {
    if !jobs.writes.is_empty() && b.commits_writes_alone() {
      done.expiry_unknown = true;
    } else {
      done.next_expiry = b.earliest_expiry()?;
    }
  }
  let until = now + jobs.lease_ms;
  if !jobs.renew.is_empty() {
    renew(b, &jobs.renew, now, &mut done)?;
  }
  // Named queues first: the anonymous queue's claim is the last job, which
  // a backend may send with its commit (see the module comment).
  for (queue, max, due, lease_ms) in &jobs.claim_named {
    if *due || done.named_moved.contains(queue) {
      let claimed = b.claim_named(queue, now, now + lease_ms, *max)?;
      done.claimed_named.push((queue.clone(), claimed));
      done.named_moved.insert(queue.clone());
    }
  }
  for (queue, ..) in &jobs.claim_named {
    if done.named_moved.contains(queue) {
      let at = b.earliest_named(queue)?;
      done.next_named.push((queue.clone(), at));
    }
  }
  if let Some(max) = jobs.claim {
    if jobs.due || done.queue_moved {
      done.claimed = b.claim(now, until, max)?;
      done.queue_moved = true;
    }
  }
  if done.queue_moved {
    done.next_ready = b.earliest_ready()?;
  }
  Ok(done)
}

/// Extends each lease by its own length, one backend call per length.
fn renew(
  b: &mut dyn Backend,
  leases: &[(LeaseKey, i64)],
  now: i64,
  done: &mut Done,
) -> Result<()> {
  done.renewed = vec![false; leases.len()];
  done.renewed_until = vec![0; leases.len()];
  let mut lengths: Vec<i64> = leases.iter().map(|(_, ms)| *ms).collect();
  lengths.sort_unstable();
  lengths.dedup();
  for ms in lengths {
    let (at, group): (Vec<usize>, Vec<LeaseKey>) = leases
      .iter()
      .enumerate()
      .filter(|(_, (_, m))| *m == ms)
      .map(|(i, (l, _))| (i, l.clone()))
      .unzip();
    let ours = b.renew(&group, now + ms)?;
    for (i, still) in at.into_iter().zip(ours) {
      done.renewed[i] = still;
      done.renewed_until[i] = now + ms;
    }
  }
  Ok(())
}

/// Notes that the queue of `lease` may have a new earliest due time.
fn moved(lease: &LeaseKey, done: &mut Done) {
  match &lease.queue {
    None => done.queue_moved = true,
    Some(queue) => {
      done.named_moved.insert(queue.clone());
    }
  }
}

fn apply_named(
  b: &mut dyn Backend,
  writes: &[&NamedWrite],
  now: i64,
  done: &mut Done,
) -> Result<()> {
  for write in writes {
    match b.write_named(write, now) {
      Err(e) if e.fails_turn() => return Err(e),
      Err(e) => done.named_writes.push(Err(e)),
      Ok(mut applied) => {
        if applied.committed.is_some() {
          let a = &mut applied.applied;
          done.changed_keys.append(&mut a.changed_keys);
          done.queue_moved |= a.earliest_enqueue.is_some();
          done.expiry_moved |= a.earliest_expiry.is_some();
          done.named_moved.extend(applied.woken.iter().cloned());
        }
        done.named_writes.push(Ok(applied));
      }
    }
  }
  Ok(())
}

fn apply_writes(
  b: &mut dyn Backend,
  writes: &[&AtomicWrite],
  now: i64,
  done: &mut Done,
) -> Result<()> {
  if writes.is_empty() {
    return Ok(());
  }
  let outcomes = b.write_batch(writes, now)?;
  if outcomes.len() != writes.len() {
    return Err(Error::Internal(format!(
      "the backend answered {} of {} writes",
      outcomes.len(),
      writes.len()
    )));
  }
  for mut outcome in outcomes {
    if let Ok(applied) = &mut outcome {
      if applied.versionstamp.is_some() {
        done.changed_keys.append(&mut applied.changed_keys);
        done.queue_moved |= applied.earliest_enqueue.is_some();
        done.expiry_moved |= applied.earliest_expiry.is_some();
      }
    }
    done.writes.push(outcome);
  }
  Ok(())
}

fn record_outcome(
  b: &mut dyn Backend,
  lease: &LeaseKey,
  outcome: &Outcome,
  now: i64,
  done: &mut Done,
) -> Result<()> {
  match outcome {
    Outcome::Handled => {
      b.acknowledge(lease)?;
      // A named message's group may have a next message ready now.
      if lease.queue.is_some() {
        moved(lease, done);
      }
    }
    Outcome::Failed => {
      let failed = b.fail(lease, now)?;
      note_failure(failed, done);
      moved(lease, done);
    }
    Outcome::Released => {
      b.release(lease, now)?;
      moved(lease, done);
    }
    Outcome::Settled(verdict) => {
      let failed = b.settle_named(lease, verdict, now)?;
      note_failure(failed, done);
      moved(lease, done);
    }
  }
  Ok(())
}

fn note_failure(failed: Failed, done: &mut Done) {
  match failed {
    // The caller notes the queue as moved.
    Failed::Requeued => {}
    Failed::Undelivered(keys) => done.changed_keys.extend(keys),
    Failed::SetAside => done.set_aside += 1,
    Failed::Gone => {}
  }
}

impl Error {
  /// Whether this error, met inside a turn, fails the whole transaction
  /// (the storage failed) rather than the one request it came from (a
  /// request the engine refused: a type mismatch, a read-only database).
  pub fn fails_turn(&self) -> bool {
    matches!(
      self,
      Error::Sqlite(_)
        | Error::Storage(_)
        | Error::Postgres(_)
        | Error::Internal(_)
    )
  }
}
