//! The real SQLite backend under a test's hooks: every [`Backend`] method
//! goes to SQLite, and the few a test needs to watch or break (a commit
//! that fails as on a full disk, a write that panics, the key sets the
//! engine hands over for watches) first pass through [`Hooks`].

use std::sync::Arc;

use kvq_core::engine::Applied;
use kvq_core::engine::Backend;
use kvq_core::engine::Claimed;
use kvq_core::engine::DirectReader;
use kvq_core::engine::Failed;
use kvq_core::engine::LeaseKey;
use kvq_core::sqlite::SqliteBackend;
use kvq_core::AtomicWrite;
use kvq_core::Durability;
use kvq_core::Error;
use kvq_core::OpenOptions;
use kvq_core::ReadRange;
use kvq_core::ReadRangeOutput;
use kvq_core::Result;
use kvq_core::Store;

/// What a test does at the backend's seams. Each default does nothing.
pub trait Hooks: Send + Sync + 'static {
  /// Before each commit; an error is the commit's outcome instead.
  fn commit(&self) -> Result<()> {
    Ok(())
  }
  /// Before each atomic write (a test may panic here).
  fn write(&self) {}
  /// The key sets the engine hands over in [`Backend::watch_keys`].
  fn watch_keys(&self, key_sets: &[Vec<Vec<u8>>]) {
    let _ = key_sets;
  }
}

/// The SQLite backend with `H` at its seams.
struct Hooked<H> {
  inner: SqliteBackend,
  hooks: Arc<H>,
}

/// A store on the database file `path`, its backend under `hooks`.
pub fn open_hooked<H: Hooks>(
  path: &str,
  hooks: Arc<H>,
  options: OpenOptions,
) -> Store {
  let (inner, reader) =
    kvq_core::sqlite::open(Some(path), Durability::Full).expect("open");
  let reader = reader.map(|r| Arc::new(r) as Arc<dyn DirectReader>);
  let backend = Hooked { inner, hooks };
  Store::with_backend(Box::new(backend), reader, options).expect("store")
}

impl<H: Hooks> Backend for Hooked<H> {
  fn read(
    &mut self,
    reads: &[&[ReadRange]],
    now: i64,
  ) -> Result<Vec<Result<Vec<ReadRangeOutput>>>> {
    self.inner.read(reads, now)
  }
  fn begin(&mut self, synced: bool) -> Result<()> {
    self.inner.begin(synced)
  }
  fn commit(&mut self) -> Result<()> {
    self.hooks.commit()?;
    self.inner.commit()
  }
  fn rollback(&mut self) {
    self.inner.rollback()
  }
  fn write(&mut self, write: &AtomicWrite, now: i64) -> Result<Applied> {
    self.hooks.write();
    self.inner.write(write, now)
  }
  fn claim(
    &mut self,
    now: i64,
    deadline: i64,
    max: usize,
  ) -> Result<Vec<Claimed>> {
    self.inner.claim(now, deadline, max)
  }
  fn renew(&mut self, leases: &[LeaseKey], deadline: i64) -> Result<Vec<bool>> {
    self.inner.renew(leases, deadline)
  }
  fn acknowledge(&mut self, lease: &LeaseKey) -> Result<bool> {
    self.inner.acknowledge(lease)
  }
  fn release(&mut self, lease: &LeaseKey, now: i64) -> Result<bool> {
    self.inner.release(lease, now)
  }
  fn fail(&mut self, lease: &LeaseKey, now: i64) -> Result<Failed> {
    self.inner.fail(lease, now)
  }
  fn collect_expired(&mut self, now: i64) -> Result<Vec<Vec<u8>>> {
    self.inner.collect_expired(now)
  }
  fn lapsed(&mut self, now: i64) -> Result<Vec<LeaseKey>> {
    self.inner.lapsed(now)
  }
  fn earliest_ready(&mut self) -> Result<Option<i64>> {
    self.inner.earliest_ready()
  }
  fn earliest_expiry(&mut self) -> Result<Option<i64>> {
    self.inner.earliest_expiry()
  }
  fn change_token(&mut self) -> Result<i64> {
    self.inner.change_token()
  }
  fn watch_keys(&mut self, key_sets: &[Vec<Vec<u8>>]) {
    self.hooks.watch_keys(key_sets);
    self.inner.watch_keys(key_sets)
  }
  fn is_busy(&self, error: &Error) -> bool {
    self.inner.is_busy(error)
  }
  fn close(&mut self) -> Result<()> {
    self.inner.close()
  }
}
