//! [`RemoteBackend`]: the engine's [`Backend`] on a KV Connect server.
//!
//! Reads and atomic writes map one to one onto `snapshot_read` and
//! `atomic_write`; the reads gathered in one engine turn go out at once,
//! side by side. There is no transaction to begin or commit: each atomic
//! write is its own commit on the server, all or nothing, so a turn's
//! writes go out at once too, in waves that keep the order of writes to
//! one key (batch.rs), and their answers come back in the turn's order.
//!
//! The keys the engine's watchers watch arrive through `watch_keys`; each
//! distinct key set is followed by one server watch stream (watch.rs),
//! started when the set first appears and stopped when its last watcher
//! ends.
//!
//! KV Connect has no queue. kvq's queue on a remote store is the
//! TypeScript `kvqueue`, made of plain keys (docs/queues-on-kv.md), so the
//! engine's own queue here is always empty: it holds no leases and never
//! has a message due. The queue jobs that only exist for a non-empty queue
//! (claim, renew, acknowledge, release, fail) refuse, saying so, rather
//! than pretend. Expiry is the server's job.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use denokv_proto::AtomicWrite;
use denokv_proto::MutationKind;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use futures_util::StreamExt;
use tokio::task::JoinHandle;

use super::batch;
use super::call::Client;
use super::watch::Notifier;
use crate::encoding::versionstamped_key;
use crate::engine::Applied;
use crate::engine::Backend;
use crate::engine::Claimed;
use crate::engine::Failed;
use crate::engine::LeaseKey;
use crate::error::Error;
use crate::error::Result;

/// The most atomic writes of one turn in flight at once: enough to keep
/// the server busy, few enough that a turn of 1024 writes does not open a
/// connection for each.
const WRITES_IN_FLIGHT: usize = 64;

/// A KV Connect database behind the engine.
pub struct RemoteBackend {
  rt: Option<tokio::runtime::Runtime>,
  client: Arc<Client>,
  notifier: Notifier,
  /// The server watch stream following each watched key set.
  follows: HashMap<Vec<Vec<u8>>, JoinHandle<()>>,
}

impl RemoteBackend {
  /// Wraps a connected client and the runtime that drives it.
  pub fn new(
    rt: tokio::runtime::Runtime,
    client: Arc<Client>,
    notifier: Notifier,
  ) -> Self {
    RemoteBackend {
      rt: Some(rt),
      client,
      notifier,
      follows: HashMap::new(),
    }
  }

  fn rt(&self) -> Result<&tokio::runtime::Runtime> {
    self.rt.as_ref().ok_or(Error::Closed)
  }

  fn stop_follows(&mut self) {
    for (_, task) in self.follows.drain() {
      task.abort();
    }
  }
}

/// Commits one atomic write on the server.
async fn apply(client: &Client, write: &AtomicWrite) -> Result<Applied> {
  let versionstamp = client.atomic_write(write).await?;
  let changed_keys = match &versionstamp {
    None => Vec::new(),
    Some(vs) => write
      .mutations
      .iter()
      .map(|m| match m.kind {
        MutationKind::SetSuffixVersionstampedKey(_) => {
          versionstamped_key(&m.key, vs)
        }
        _ => m.key.clone(),
      })
      .collect(),
  };
  Ok(Applied {
    versionstamp,
    changed_keys,
    earliest_enqueue: None,
    earliest_expiry: None,
  })
}

fn no_queue() -> Error {
  Error::Remote(
    "KV Connect has no queue operations: kvq's queue on a KV Connect \
     database is made of keys (docs/queues-on-kv.md)"
      .into(),
  )
}

impl Backend for RemoteBackend {
  fn read(
    &mut self,
    reads: &[&[ReadRange]],
    _now: i64,
  ) -> Result<Vec<Result<Vec<ReadRangeOutput>>>> {
    let client = &self.client;
    let all = reads.iter().map(|ranges| client.snapshot_read(ranges));
    Ok(self.rt()?.block_on(futures_util::future::join_all(all)))
  }

  fn begin(&mut self, _synced: bool) -> Result<()> {
    Ok(())
  }

  fn commit(&mut self) -> Result<()> {
    Ok(())
  }

  fn rollback(&mut self) {}

  fn write(&mut self, write: &AtomicWrite, _now: i64) -> Result<Applied> {
    self.rt()?.block_on(apply(&self.client, write))
  }

  fn write_batch(
    &mut self,
    writes: &[&AtomicWrite],
    _now: i64,
  ) -> Result<Vec<Result<Applied>>> {
    let client = &self.client;
    let mut outcomes: Vec<Option<Result<Applied>>> =
      writes.iter().map(|_| None).collect();
    self.rt()?.block_on(async {
      for wave in batch::waves(writes) {
        let answers: Vec<Result<Applied>> = futures_util::stream::iter(&wave)
          .map(|&i| apply(client, writes[i]))
          .buffered(WRITES_IN_FLIGHT)
          .collect()
          .await;
        for (i, answer) in wave.into_iter().zip(answers) {
          outcomes[i] = Some(answer);
        }
      }
    });
    Ok(
      outcomes
        .into_iter()
        .map(|o| {
          o.unwrap_or_else(|| {
            Err(Error::Internal("a write of the turn was never sent".into()))
          })
        })
        .collect(),
    )
  }

  fn claim(&mut self, _: i64, _: i64, _: usize) -> Result<Vec<Claimed>> {
    Err(no_queue())
  }

  fn renew(&mut self, _: &[LeaseKey], _: i64) -> Result<Vec<bool>> {
    Err(no_queue())
  }

  fn acknowledge(&mut self, _: &LeaseKey) -> Result<bool> {
    Err(no_queue())
  }

  fn release(&mut self, _: &LeaseKey, _: i64) -> Result<bool> {
    Err(no_queue())
  }

  fn fail(&mut self, _: &LeaseKey, _: i64) -> Result<Failed> {
    Err(no_queue())
  }

  fn collect_expired(&mut self, _now: i64) -> Result<Vec<Vec<u8>>> {
    // The server deletes expired entries and never returns them.
    Ok(Vec::new())
  }

  fn lapsed(&mut self, _now: i64) -> Result<Vec<LeaseKey>> {
    Ok(Vec::new())
  }

  fn earliest_ready(&mut self) -> Result<Option<i64>> {
    Ok(None)
  }

  fn earliest_expiry(&mut self) -> Result<Option<i64>> {
    Ok(None)
  }

  fn change_token(&mut self) -> Result<i64> {
    Ok(self.notifier.changes.load(Ordering::SeqCst))
  }

  fn watch_keys(&mut self, key_sets: &[Vec<Vec<u8>>]) {
    self.follows.retain(|keys, task| {
      let watched = key_sets.contains(keys);
      if !watched {
        task.abort();
      }
      watched
    });
    let Some(rt) = self.rt.as_ref() else {
      return;
    };
    for keys in key_sets {
      if !self.follows.contains_key(keys) {
        let follow = super::watch::follow(
          self.client.clone(),
          keys.clone(),
          self.notifier.clone(),
        );
        self.follows.insert(keys.clone(), rt.spawn(follow));
      }
    }
  }

  fn set_wake(&mut self, wake: Box<dyn Fn() + Send + Sync>) {
    *self.notifier.wake.lock().unwrap_or_else(|p| p.into_inner()) = Some(wake);
  }

  fn is_busy(&self, _error: &Error) -> bool {
    false
  }

  fn close(&mut self) -> Result<()> {
    self.stop_follows();
    self
      .notifier
      .wake
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .take();
    if let Some(rt) = self.rt.take() {
      rt.shutdown_background();
    }
    Ok(())
  }
}

impl Drop for RemoteBackend {
  fn drop(&mut self) {
    if let Some(rt) = self.rt.take() {
      rt.shutdown_background();
    }
  }
}
