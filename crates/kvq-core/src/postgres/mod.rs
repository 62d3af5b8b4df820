//! The Postgres backend: one store shared by processes on many machines.
//!
//! [`PostgresBackend`] maps the engine's jobs onto a pool of connections
//! (deadpool-postgres over tokio-postgres, TLS by rustls), driven by a
//! current-thread tokio runtime that the backend owns: the engine's worker
//! thread blocks on each call, as it does on SQLite. `config.rs` reads the
//! URL, `schema.rs` holds the tables and every statement, `kv.rs` and
//! `queue.rs` the two halves, `blind.rs` a turn of writes that need
//! nothing from the database as one statement, `named.rs` and
//! `named_admin.rs` kvq's named queues, `pipeline.rs` sends statements in
//! bulk, `listen.rs` hears other processes' commits.
//!
//! A turn is one transaction on one pooled connection, begun lazily with
//! its first statement. Work that needs no answer (acknowledgements,
//! releases, enqueues, the rows a write sets) is buffered and goes out with
//! the next statement that does, or with the commit, so a turn costs one
//! or two round trips however many jobs it holds. Versionstamps come from
//! the `data_version` row, locked by the turn's first write until it
//! commits, so versions grow strictly in commit order across processes.
//! Every transaction that writes KV rows takes that lock before any row
//! lock, so they cannot deadlock; a deadlock Postgres breaks anyway (a
//! rare cross of queue rows) is "busy", and the engine runs the turn again.
//!
//! When the connection fails mid-turn, the turn's callers get the error
//! (for a failed commit, that the write may or may not have been applied),
//! the engine backs off and the next turn takes a fresh connection: nothing
//! acknowledged is lost, and outcomes not yet recorded are tried again.

mod blind;
mod config;
mod inspect;
mod kv;
mod listen;
mod named;
mod named_admin;
mod pipeline;
mod queue;
mod schema;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Manager;
use deadpool_postgres::ManagerConfig;
use deadpool_postgres::Object;
use deadpool_postgres::Pool;
use deadpool_postgres::PoolError;
use deadpool_postgres::RecyclingMethod;
use denokv_proto::AtomicWrite;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use tokio_postgres::Row;

pub use config::is_postgres_url;
pub use config::redact_url;
pub use config::PgConfig;
pub use config::SslMode;
pub use config::DEFAULT_POOL_SIZE;
pub use config::DEFAULT_SCHEMA;
pub use schema::CURRENT as SCHEMA_VERSION;

use self::kv::KvBuffer;
use self::listen::Listener;
use self::named::HeldChanges;
use self::named::HeldGroups;
use self::named::NamedBuffer;
use self::pipeline::Param;
use self::pipeline::Stmt;
use self::queue::Handed;
use self::queue::QueueBuffer;
use self::queue::Registered;
use self::schema::Sql;
use crate::engine::Applied;
use crate::engine::Backend;
use crate::engine::Claimed;
use crate::engine::Durability;
use crate::engine::Enqueued;
use crate::engine::Failed;
use crate::engine::LeaseKey;
use crate::engine::NamedAdmin;
use crate::engine::NamedAnswer;
use crate::engine::NamedApplied;
use crate::engine::NamedCommitted;
use crate::engine::NamedWrite;
use crate::engine::OpenOptions;
use crate::engine::Store;
use crate::engine::Verdict;
use crate::error::Error;
use crate::error::Result;

/// How long a call waits for a free pooled connection.
const POOL_WAIT: Duration = Duration::from_secs(30);
/// How long a read keeps trying while the server cannot be reached (a
/// restart, a failover): reads change nothing, so trying again is safe,
/// and a watcher or a `get` rides out a restart instead of failing.
const READ_RETRY: Duration = Duration::from_secs(5);

/// Opens the store a `postgres://` URL names: connects, creates or
/// migrates its schema, starts the engine. `options_json` is `openKv`'s
/// options (`schema`, `poolSize` are read here; the rest is `options`).
pub fn open_store(
  url: &str,
  options_json: &str,
  options: OpenOptions,
) -> Result<Store> {
  let json = match options_json.trim() {
    "" => serde_json::Value::Null,
    text => serde_json::from_str(text)
      .map_err(|e| Error::Malformed(format!("open options: {e}")))?,
  };
  let config = PgConfig::parse(url, &json)?;
  let backend = PostgresBackend::open(config, options.durability)?;
  Store::with_backend(Box::new(backend), None, options)
}

/// A store in a Postgres schema behind the engine.
pub struct PostgresBackend {
  rt: Option<tokio::runtime::Runtime>,
  pool: Pool,
  sql: Arc<Sql>,
  /// Where the store lives, for messages (no password).
  place: String,
  config: Arc<PgConfig>,
  durability: Durability,
  listener: Option<Listener>,
  /// The LISTEN channel and this store's id in its payloads.
  channel: String,
  me: String,
  /// The open turn, if any.
  turn: Option<Turn>,
  /// Whether the last error was a conflict worth running the turn again.
  conflict: bool,
  /// Whether the last error was the connection's, not the statement's.
  lost: bool,
  /// The groups of the named messages this store holds (named.rs).
  held: HeldGroups,
  /// Messages handed to this store beyond what the last claim took.
  handed: Vec<Handed>,
  /// Handed messages went unwanted: the next turn unregisters this store
  /// as waiting, so that no more come until a claim registers it again.
  unregister: bool,
  /// What this store believes its registration as waiting to be.
  registered: Registered,
  /// The last claim found all it asked for.
  claims_full: bool,
}

/// What a turn knew when it set its savepoint ([`PostgresBackend::undo`]).
#[derive(Clone, Copy)]
struct Savepoint {
  version: Option<i64>,
  ready: Option<Option<i64>>,
}

/// One turn's transaction and what it has buffered.
struct Turn {
  client: Object,
  /// BEGIN has been sent.
  begun: bool,
  /// The commit must be durable (a user's write rides in it).
  synced: bool,
  /// The version counter, once this turn holds its lock.
  version: Option<i64>,
  /// The counter row is behind `version`.
  version_dirty: bool,
  kv: KvBuffer,
  queue: QueueBuffer,
  named: NamedBuffer,
  /// This turn's stripe of named queues' counters (named.rs).
  stripe: i16,
  /// Named enqueues are in the open transaction: it must not commit
  /// before the turn's last job (see `claim`).
  named_writes: bool,
  /// What the turn changes in [`PostgresBackend::held`], once committed.
  held: HeldChanges,
  /// Per named queue claimed from in this turn, its earliest ready time
  /// as the claim's round trip saw it (nothing changes a queue after its
  /// claim in a turn): the engine asks right after.
  named_earliest: HashMap<String, Option<i64>>,
  /// The commit must wake other processes.
  notify: bool,
  /// The earliest due time of a ready message as this transaction sees
  /// it, when known without asking: read with the turn's first write or
  /// with a claim (in the same round trip), then lowered by every message
  /// the turn makes ready. The engine asks for it after every turn that
  /// moved the queue; this answers without another round trip.
  ready: Option<Option<i64>>,
}

impl Turn {
  /// A message of this turn is ready at `ts`.
  fn made_ready(&mut self, ts: i64) {
    if let Some(known) = self.ready.as_mut() {
      *known = Some(known.map_or(ts, |k| k.min(ts)));
    }
  }
}

impl PostgresBackend {
  /// Connects (failing with a message that names the host, port, database
  /// and user, never the password), migrates and starts listening.
  pub fn open(config: PgConfig, durability: Durability) -> Result<Self> {
    // Opening blocks on the backend's own runtime, which cannot start
    // inside another one (a Rust caller's async fn): it runs on a thread
    // of its own.
    std::thread::scope(|scope| {
      scope
        .spawn(|| Self::open_here(config, durability))
        .join()
        .unwrap_or_else(|p| Err(Error::from_panic(p.as_ref())))
    })
  }

  fn open_here(config: PgConfig, durability: Durability) -> Result<Self> {
    let mut pg = config.pg.clone();
    if durability == Durability::Relaxed {
      let mut options = pg.get_options().unwrap_or("").to_string();
      options.push_str(" -c synchronous_commit=off");
      pg.options(options.trim());
    }
    let tls = config.tls()?;
    let rt = tokio::runtime::Builder::new_current_thread()
      .enable_all()
      .build()
      .map_err(|e| Error::Internal(format!("starting a runtime: {e}")))?;
    let manager = Manager::from_config(
      pg.clone(),
      tls.clone(),
      ManagerConfig {
        recycling_method: RecyclingMethod::Fast,
      },
    );
    let pool = Pool::builder(manager)
      .max_size(config.pool_size)
      .runtime(deadpool_postgres::Runtime::Tokio1)
      .wait_timeout(Some(POOL_WAIT))
      .create_timeout(config.pg.get_connect_timeout().copied())
      .build()
      .map_err(|e| Error::Internal(format!("building the pool: {e}")))?;
    let place = config.place.clone();
    let fail = |what: &str, e: String| {
      Error::OpenFailed(config.scrub(format!(
        "cannot open the Postgres store at {place}, schema \"{}\": {what}{e}",
        config.schema
      )))
    };
    rt.block_on(async {
      let client = pool
        .get()
        .await
        .map_err(|e| fail("", pool_error_text(&e)))?;
      schema::migrate(&client, &config.schema)
        .await
        .map_err(|e| match e {
          schema::MigrateError::Postgres(e) => {
            fail("creating its tables: ", pipeline::describe(&e))
          }
          schema::MigrateError::TooNew(v) => fail(
            "",
            format!(
              "its tables are at version {v}, written by a newer kvq (this one knows {})",
              schema::CURRENT
            ),
          ),
        })
    })?;
    let channel = format!("kvq:{}", config.schema);
    let me = format!("{:016x}", rand::random::<u64>());
    let listener = Listener::start(pg, tls, channel.clone(), me.clone())
      .map_err(|e| {
        Error::Internal(format!("starting the listening thread: {e}"))
      })?;
    Ok(PostgresBackend {
      rt: Some(rt),
      pool,
      sql: Arc::new(Sql::new(&config.schema)),
      place,
      config: Arc::new(config),
      durability,
      listener: Some(listener),
      channel,
      me,
      turn: None,
      conflict: false,
      lost: false,
      held: HeldGroups::default(),
      handed: Vec::new(),
      unregister: false,
      registered: Registered::Unknown,
      claims_full: false,
    })
  }

  /// Every message handed over and not yet taken, oldest first.
  fn all_handed(&mut self) -> Vec<Handed> {
    let mut all = std::mem::take(&mut self.handed);
    if let Some(listener) = &self.listener {
      all.extend(listener.take_handed());
    }
    all.sort_by_key(|h| h.id);
    all
  }

  /// Handed messages as claimed ones: those whose payload came with the
  /// notification at once, the others read by their lease (one round
  /// trip). A message whose lease is no longer this store's is left out.
  fn claim_handed(&mut self, handed: Vec<Handed>) -> Result<Vec<Claimed>> {
    let to_read: Vec<&Handed> =
      handed.iter().filter(|h| h.data.is_none()).collect();
    let mut read = HashMap::new();
    if !to_read.is_empty() {
      let stmt = queue::claim_handed_stmt(&self.sql, &to_read);
      let rows = self.run_in_turn(vec![stmt], false)?;
      for c in queue::claimed(rows.first().map_or(&[][..], |r| r), 0)? {
        read.insert(c.lease.id, c.payload);
      }
    }
    let mut out = Vec::with_capacity(handed.len());
    for h in handed {
      let lease = h.lease();
      let payload = match h.data {
        Some(data) => data,
        None => match read.remove(&lease.id) {
          Some(data) => data,
          None => continue,
        },
      };
      out.push(Claimed {
        lease,
        payload,
        named: None,
      });
    }
    Ok(out)
  }

  fn rt(&self) -> Result<&tokio::runtime::Runtime> {
    self.rt.as_ref().ok_or(Error::Closed)
  }

  /// A Postgres error as the engine's, remembering whether it was a
  /// conflict (see [`Backend::is_busy`]).
  fn error(&mut self, e: &tokio_postgres::Error, committing: bool) -> Error {
    self.conflict = pipeline::is_conflict(e);
    let lost = pipeline::is_connection_lost(e);
    self.lost = lost;
    let text = pipeline::describe(e);
    let text = if committing && lost {
      format!(
        "the connection to Postgres at {} was lost while committing; the write may or may not have been applied: {text}",
        self.place
      )
    } else if lost {
      format!("lost the connection to Postgres at {}: {text}", self.place)
    } else {
      format!("Postgres at {}: {text}", self.place)
    };
    Error::Postgres(self.config.scrub(text))
  }

  fn pool_error(&mut self, e: &PoolError) -> Error {
    self.conflict = false;
    self.lost = true;
    let text = format!(
      "cannot reach Postgres at {}: {}",
      self.place,
      pool_error_text(e)
    );
    Error::Postgres(self.config.scrub(text))
  }

  /// Runs statements outside any turn, on a pooled connection, in one
  /// round trip.
  fn run_alone(&mut self, stmts: &[Stmt]) -> Result<Vec<Vec<Row>>> {
    let pool = self.pool.clone();
    let result = self.rt()?.block_on(async {
      let client = pool.get().await.map_err(Err)?;
      pipeline::run(&client, stmts).await.map_err(Ok)
    });
    match result {
      Ok(rows) => Ok(rows),
      Err(Err(e)) => Err(self.pool_error(&e)),
      Err(Ok(e)) => Err(self.error(&e, false)),
    }
  }

  /// Runs `stmts` in the open turn, after BEGIN (if not yet sent) and
  /// everything buffered, in one round trip; returns their rows only.
  /// With `commit`, COMMIT goes last.
  fn run_in_turn(
    &mut self,
    stmts: Vec<Stmt>,
    commit: bool,
  ) -> Result<Vec<Vec<Row>>> {
    let sql = self.sql.clone();
    let durability = self.durability;
    let Some(turn) = self.turn.as_mut() else {
      return Err(Error::Internal("no transaction is open".into()));
    };
    let mut all = Vec::with_capacity(stmts.len() + 6);
    if !turn.begun {
      // A turn without a user's write need not wait for the disk: losing
      // it to a power cut only means a message is delivered again.
      all.push(Stmt::simple(
        if turn.synced || durability == Durability::Relaxed {
          "begin"
        } else {
          "begin; set local synchronous_commit = off"
        },
      ));
      turn.begun = true;
    }
    if turn.version_dirty {
      if let Some(v) = turn.version {
        all.push(Stmt::new(&sql.set_version, vec![Box::new(v)]));
      }
      turn.version_dirty = false;
    }
    all.extend(turn.kv.drain(&sql));
    all.extend(turn.queue.drain(&sql, &self.me));
    let ctx = named::Ctx {
      channel: self.channel.clone(),
      me: self.me.clone(),
      stripe: turn.stripe,
    };
    all.extend(turn.named.drain(&sql.named, &ctx));
    if commit && turn.notify {
      let params: Vec<Param> =
        vec![Box::new(self.channel.clone()), Box::new(self.me.clone())];
      all.push(Stmt::new(&sql.notify, params));
    }
    let skip = all.len();
    all.extend(stmts);
    if commit {
      all.push(Stmt::simple("commit"));
    }
    let rt = self.rt.as_ref().ok_or(Error::Closed)?;
    let result = rt.block_on(pipeline::run(&turn.client, &all));
    match result {
      Ok(mut rows) => {
        if commit {
          rows.pop();
        }
        Ok(rows.split_off(skip.min(rows.len())))
      }
      Err(e) => Err(self.error(&e, commit)),
    }
  }

  /// Takes the version counter's lock for this turn, if not yet held
  /// (moving it by nothing), and returns the turn's current version.
  fn lock_version(&mut self) -> Result<i64> {
    if let Some(v) = self.turn_mut()?.version {
      return Ok(v);
    }
    let lock = Stmt::new(&self.sql.bump_version, vec![Box::new(0i64)]);
    let rows = self.run_in_turn(vec![lock], false)?;
    let v = self.version_of(&rows)?;
    self.turn_mut()?.version = Some(v);
    Ok(v)
  }

  /// The version a commit of this turn gets: `step` past the last. The
  /// counter row is written once, with the turn's next statement.
  fn next_version(&mut self, step: i64) -> Result<i64> {
    let current = self.lock_version()?;
    let turn = self.turn_mut()?;
    let next = current + step;
    turn.version = Some(next);
    turn.version_dirty = true;
    Ok(next)
  }

  /// The turn's transaction was committed by the round trip that just
  /// ended (with the turn's writes, or with its claim): whatever the turn
  /// does next begins another, which need not wait for the disk (the
  /// users' writes are already durable), and takes the counter's lock again
  /// if it needs a version.
  fn committed_early(&mut self) {
    if let Some(turn) = self.turn.as_mut() {
      turn.begun = false;
      turn.synced = false;
      turn.version = None;
      turn.version_dirty = false;
      turn.notify = false;
    }
  }

  /// Writes that need nothing from the database ([`kv::is_blind`]), as the
  /// turn's first job: decided in memory with versions counted from zero,
  /// then sent as ONE statement, its own transaction, with the counter's
  /// move (by their total), their rows' versions offsets from the counter
  /// the server moved (blind.rs). The versionstamps follow from the
  /// counter's new value. The rest of the turn runs in a transaction of
  /// its own.
  fn write_blind(
    &mut self,
    writes: &[&AtomicWrite],
  ) -> Result<Vec<Result<Applied>>> {
    let none = std::collections::HashMap::new();
    let mut outcomes = Vec::with_capacity(writes.len());
    let mut offsets = Vec::with_capacity(writes.len());
    let mut keys = Vec::new();
    let mut queue = QueueBuffer::default();
    let mut total = 0i64;
    for write in writes {
      let step = crate::encoding::version_step();
      match kv::decide(write, &none, total + step) {
        Ok(Some(decided)) => {
          total += step;
          offsets.push(Some(total));
          keys.extend(decided.keys);
          for message in decided.messages {
            queue.enqueue(message);
          }
          outcomes.push(Ok(decided.applied));
        }
        Ok(None) => {
          offsets.push(None);
          outcomes.push(Ok(Applied::default()));
        }
        Err(e) if e.fails_turn() => return Err(e),
        Err(e) => {
          offsets.push(None);
          outcomes.push(Err(e));
        }
      }
    }
    if total == 0 {
      return Ok(outcomes);
    }
    let mut rows = KvBuffer::default();
    let wakes = !keys.is_empty() || !queue.is_empty();
    for (key, mut state) in keys {
      if let kv::Pending::Put { version, .. } = &mut state {
        // At or below zero: the counter after the move, plus this.
        *version -= total;
      }
      rows.put(key, state);
    }
    let wake = wakes.then_some(self.channel.as_str());
    let messages = queue.take_messages();
    let stmt =
      blind::statement(&self.sql, total, rows.take(), messages, &self.me, wake);
    let rt = self.rt.as_ref().ok_or(Error::Closed)?;
    let Some(turn) = self.turn.as_mut() else {
      return Err(Error::Internal("no transaction is open".into()));
    };
    // One statement, its own transaction: nothing stays open after it.
    let answered = rt.block_on(pipeline::run(&turn.client, &[stmt]));
    let answers = answered.map_err(|e| self.error(&e, true))?;
    let row = answers.first().and_then(|r| r.first());
    let read = |i: usize| -> Result<Option<i64>> {
      row
        .map(|r| r.try_get::<_, Option<i64>>(i))
        .transpose()
        .map(Option::flatten)
        .map_err(|e| {
          Error::Postgres(format!("reading a blind write's answer: {e}"))
        })
    };
    let (moved, ready) = (read(0)?, read(1)?);
    let moved = moved.ok_or_else(|| {
      Error::Postgres(format!(
        "the data_version row of schema \"{}\" is missing",
        self.config.schema
      ))
    })?;
    let base = moved - total;
    for (outcome, offset) in outcomes.iter_mut().zip(offsets) {
      if let (Ok(applied), Some(offset)) = (outcome, offset) {
        applied.versionstamp =
          Some(crate::encoding::versionstamp(base + offset));
      }
    }
    self.committed_early();
    if let Some(turn) = self.turn.as_mut() {
      turn.ready = Some(ready);
    }
    Ok(outcomes)
  }

  /// Sends everything buffered, then a savepoint, in one round trip:
  /// what follows can be undone alone ([`Self::undo`]). Returns what the
  /// turn knew then, for the undo to restore.
  fn savepoint(&mut self) -> Result<Savepoint> {
    let stmt = Stmt::simple("savepoint kvq_named_write");
    self.run_in_turn(vec![stmt], false)?;
    let turn = self.turn_mut()?;
    Ok(Savepoint {
      version: turn.version,
      ready: turn.ready,
    })
  }

  /// Undoes everything since [`Self::savepoint`], in one round trip. A
  /// lock taken since is released by the undo: the version counter's, if
  /// the turn did not hold it before, must be taken again.
  fn undo(&mut self, before: Savepoint) -> Result<()> {
    let stmt = Stmt::simple(
      "rollback to savepoint kvq_named_write; release savepoint kvq_named_write",
    );
    let turn = self.turn_mut()?;
    // Anything buffered since belongs to what is undone.
    turn.kv = KvBuffer::default();
    turn.queue = QueueBuffer::default();
    turn.named = NamedBuffer::default();
    turn.version = before.version;
    turn.version_dirty = false;
    turn.ready = before.ready;
    self.run_in_turn(vec![stmt], false)?;
    Ok(())
  }

  /// What the turn's buffered named statements need: where to notify,
  /// and the turn's counter stripe.
  fn named_ctx(&mut self) -> Result<named::Ctx> {
    let stripe = self.turn_mut()?.stripe;
    Ok(named::Ctx {
      channel: self.channel.clone(),
      me: self.me.clone(),
      stripe,
    })
  }

  /// A named message's lapsed lease: a failed attempt with
  /// [`crate::engine::LAPSED`], retried at once, or dead past its
  /// `max_attempts`. Which of the two is decided by the database (two
  /// statements, each for one case), so it is buffered like an
  /// acknowledgement and answered `Requeued` either way (the engine only
  /// notes the answer). Its group is locked in case it dies: the lease
  /// may be another process's, whose group this store does not know.
  fn fail_named(
    &mut self,
    queue: &str,
    lease: &LeaseKey,
    now: i64,
  ) -> Result<Failed> {
    let sql = self.sql.clone();
    let ctx = self.named_ctx()?;
    let error = crate::engine::LAPSED;
    let turn = self.turn_mut()?;
    turn.named.lock_group_of(queue, &lease.id);
    let bury = named::bury_stmt(&sql.named, lease, error, now, false, &ctx);
    turn.named.push(bury);
    let retry =
      named::retry_stmt(&sql.named, lease, now, error, false, ctx.stripe);
    turn.named.push(retry);
    turn.held.left(lease);
    turn.named_earliest.clear();
    turn.notify = true;
    Ok(Failed::Requeued)
  }

  /// The version a `bump_version` statement returned, first of `rows`.
  fn version_of(&self, rows: &[Vec<Row>]) -> Result<i64> {
    rows
      .first()
      .and_then(|r| r.first())
      .map(|r| r.try_get::<_, i64>(0))
      .transpose()
      .map_err(|e| Error::Postgres(format!("reading the version: {e}")))?
      .ok_or_else(|| {
        Error::Postgres(format!(
          "the data_version row of schema \"{}\" is missing",
          self.config.schema
        ))
      })
  }

  fn turn_mut(&mut self) -> Result<&mut Turn> {
    self
      .turn
      .as_mut()
      .ok_or_else(|| Error::Internal("no transaction is open".into()))
  }

  /// `min(...)` of one column, in the turn's transaction when one is
  /// under way; otherwise on the turn's connection outside any (a question
  /// alone does not begin one: it would cost a commit's round trip), or
  /// on any pooled connection between turns.
  fn earliest(&mut self, stmt: Stmt) -> Result<Option<i64>> {
    let rows = match self.turn.as_ref() {
      Some(t)
        if t.begun
          || t.version_dirty
          || !t.kv.is_empty()
          || !t.queue.is_empty()
          || !t.named.is_empty() =>
      {
        self.run_in_turn(vec![stmt], false)?
      }
      Some(t) => {
        let rt = self.rt.as_ref().ok_or(Error::Closed)?;
        let answered = rt.block_on(pipeline::run(&t.client, &[stmt]));
        answered.map_err(|e| self.error(&e, false))?
      }
      None => self.run_alone(&[stmt])?,
    };
    min_of(rows.first())
  }
}

/// The one value of a `min(...)` query's rows.
fn min_of(rows: Option<&Vec<Row>>) -> Result<Option<i64>> {
  let row = rows.and_then(|r| r.first());
  row
    .map(|r| r.try_get::<_, Option<i64>>(0))
    .transpose()
    .map(Option::flatten)
    .map_err(|e| Error::Postgres(format!("reading a time: {e}")))
}

impl Backend for PostgresBackend {
  fn read(
    &mut self,
    reads: &[&[ReadRange]],
    now: i64,
  ) -> Result<Vec<Result<Vec<ReadRangeOutput>>>> {
    let total: usize = reads.iter().map(|r| r.len()).sum();
    let mut stmts = Vec::with_capacity(total + 2);
    // More than one range shares one snapshot.
    let snapshot = total > 1;
    if snapshot {
      stmts.push(Stmt::simple(
        "begin isolation level repeatable read read only",
      ));
    }
    for range in reads.iter().flat_map(|r| r.iter()) {
      let sql = if range.reverse {
        &self.sql.read_range_reverse
      } else {
        &self.sql.read_range
      };
      let params: Vec<Param> = vec![
        Box::new(range.start.clone()),
        Box::new(range.end.clone()),
        Box::new(now),
        Box::new(i64::from(range.limit.get())),
      ];
      stmts.push(Stmt::new(sql, params));
    }
    if snapshot {
      stmts.push(Stmt::simple("commit"));
    }
    let started = std::time::Instant::now();
    let mut pause = Duration::from_millis(50);
    let rows = loop {
      match self.run_alone(&stmts) {
        Ok(rows) => break rows,
        Err(_) if self.lost && started.elapsed() + pause < READ_RETRY => {
          std::thread::sleep(pause);
          pause = (pause * 2).min(Duration::from_millis(500));
        }
        Err(e) => return Err(e),
      }
    };
    let mut rows = rows.into_iter();
    if snapshot {
      rows.next();
    }
    let mut out = Vec::with_capacity(reads.len());
    for ranges in reads {
      let mut outputs = Vec::with_capacity(ranges.len());
      let mut failed = None;
      for _ in ranges.iter() {
        let got = rows.next().unwrap_or_default();
        match kv::range_output(&got) {
          Ok(o) => outputs.push(o),
          Err(e) => failed = Some(e),
        }
      }
      out.push(match failed {
        Some(e) => Err(e),
        None => Ok(outputs),
      });
    }
    Ok(out)
  }

  fn begin(&mut self, synced: bool) -> Result<()> {
    self.rollback();
    let pool = self.pool.clone();
    let got = self.rt()?.block_on(pool.get());
    let client = got.map_err(|e| self.pool_error(&e))?;
    self.turn = Some(Turn {
      client,
      begun: false,
      synced,
      version: None,
      version_dirty: false,
      kv: KvBuffer::default(),
      queue: QueueBuffer::default(),
      named: NamedBuffer::default(),
      stripe: rand::random::<i16>().rem_euclid(named::STRIPES),
      named_writes: false,
      held: HeldChanges::default(),
      named_earliest: HashMap::new(),
      notify: false,
      ready: None,
    });
    if std::mem::take(&mut self.unregister) {
      // Not known until this turn commits.
      self.registered = Registered::Unknown;
      let stmt =
        Stmt::new(&self.sql.unregister, vec![Box::new(self.me.clone())]);
      self.turn_mut()?.queue.push(stmt);
    }
    Ok(())
  }

  fn commit(&mut self) -> Result<()> {
    let Some(turn) = self.turn.as_ref() else {
      return Ok(());
    };
    let idle = !turn.begun
      && turn.kv.is_empty()
      && turn.queue.is_empty()
      && turn.named.is_empty()
      && !turn.version_dirty;
    if idle {
      // Nothing left to commit, but what an early commit (a claim sent
      // with its commit) stored is stored: the groups it leased are held.
      if let Some(turn) = self.turn.take() {
        self.held.apply(turn.held);
      }
      return Ok(());
    }
    let committed = self.run_in_turn(Vec::new(), true);
    match committed {
      Ok(_) => {
        if let Some(turn) = self.turn.take() {
          self.held.apply(turn.held);
        }
        Ok(())
      }
      Err(e) => {
        self.rollback();
        Err(e)
      }
    }
  }

  fn rollback(&mut self) {
    let Some(turn) = self.turn.take() else {
      return;
    };
    if !turn.begun {
      // Nothing open to undo; an early commit's leases stand.
      self.held.apply(turn.held);
      return;
    }
    let Some(rt) = self.rt.as_ref() else {
      return;
    };
    let rolled_back = rt.block_on(turn.client.batch_execute("rollback"));
    if rolled_back.is_err() {
      // A connection that cannot roll back is not put back in the pool.
      drop(Object::take(turn.client));
    }
  }

  /// Blind writes (no checks, no operands to read, no versionstamped
  /// key) opening a turn go out in one round trip with their commit (see
  /// `write_blind`); any other batch, one write after another as the
  /// engine's default does.
  fn write_batch(
    &mut self,
    writes: &[&AtomicWrite],
    now: i64,
  ) -> Result<Vec<Result<Applied>>> {
    let fresh = self.turn.as_ref().is_some_and(|t| {
      !t.begun
        && t.version.is_none()
        && t.kv.is_empty()
        && t.queue.is_empty()
        && t.named.is_empty()
    });
    if fresh && writes.iter().all(|w| kv::is_blind(w)) {
      return self.write_blind(writes);
    }
    crate::engine::write_each(self, writes, now)
  }

  fn write(&mut self, write: &AtomicWrite, now: i64) -> Result<Applied> {
    let needed = kv::keys_to_read(write);
    let reads = !needed.is_empty();
    let held = self.turn_mut()?.version.is_some();
    let mut stmts = Vec::new();
    if !held {
      // The counter's lock, taken without moving it: a failed check must
      // leave the version where it was.
      stmts.push(Stmt::new(&self.sql.bump_version, vec![Box::new(0i64)]));
    }
    if reads {
      let params: Vec<Param> = vec![Box::new(needed), Box::new(now)];
      stmts.push(Stmt::new(&self.sql.get_many, params));
    }
    // With the turn's first round trip, what the engine asks after it.
    let ask_ready = !held && self.turn_mut()?.ready.is_none();
    if ask_ready {
      stmts.push(Stmt::new(&self.sql.earliest_ready, Vec::new()));
    }
    // The read runs after the counter's lock is taken, so no commit can
    // change these rows before this turn's.
    let rows = if stmts.is_empty() {
      Vec::new()
    } else {
      self.run_in_turn(stmts, false)?
    };
    if !held {
      let v = self.version_of(&rows)?;
      self.turn_mut()?.version = Some(v);
    }
    if ask_ready {
      let ready = min_of(rows.last())?;
      self.turn_mut()?.ready = Some(ready);
    }
    let stored = match rows.get(usize::from(!held)) {
      Some(rows) if reads => kv::stored_by_key(rows)?,
      _ => Default::default(),
    };
    let current = self.lock_version()?;
    let version = current + crate::encoding::version_step();
    let Some(decided) = kv::decide(write, &stored, version)? else {
      return Ok(Applied::default());
    };
    let turn = self.turn_mut()?;
    turn.version = Some(version);
    turn.version_dirty = true;
    let wakes = !decided.keys.is_empty() || !decided.messages.is_empty();
    for (key, state) in decided.keys {
      turn.kv.put(key, state);
    }
    for message in decided.messages {
      turn.made_ready(message.ts);
      turn.queue.enqueue(message);
    }
    turn.notify |= wakes;
    Ok(decided.applied)
  }

  fn claim(
    &mut self,
    now: i64,
    deadline: i64,
    max: usize,
  ) -> Result<Vec<Claimed>> {
    // Messages other processes handed over go first, with no round trip:
    // what the hand-off saves. The rest of the queue waits for the next
    // claim (the engine asks again, its state being stale).
    let mut handed = self.all_handed();
    if !handed.is_empty() {
      self.handed = handed.split_off(max.min(handed.len()));
      // Not known, and not asked now (a round trip before the handlers):
      // due, so that the next turn claims, and registers this store
      // again if the listener still has room.
      self.turn_mut()?.ready = Some(Some(now));
      // The hand-offs took from its room.
      self.registered = Registered::Unknown;
      return self.claim_handed(handed);
    }
    let alive = self.listener.as_ref().map_or(0, Listener::alive);
    let registered = self.registered;
    // While claims find all they ask for and nothing is registered, the
    // claim alone: the first to come back short registers the next.
    let plain = registered == Registered::No && self.claims_full;
    let claim = match plain {
      true => Stmt::new(
        &self.sql.claim_plain,
        queue::claim_plain_params(now, deadline, max),
      ),
      false => {
        // Until the claim is known to have committed.
        self.registered = Registered::Unknown;
        let params =
          queue::claim_params(now, deadline, max, &self.me, alive, registered);
        Stmt::new(&self.sql.claim, params)
      }
    };
    // The engine asks for the earliest due time right after a claim: it
    // goes with the claim, in the same round trip. So does the commit: a
    // claim is the last job of a turn that changes anything (turn.rs), so
    // the messages go to their handlers one round trip after the turn
    // starts, not two.
    let earliest = Stmt::new(&self.sql.earliest_ready, Vec::new());
    // Not when named enqueues ride in the transaction: a later job of the
    // turn (a named queue's claim) could still fail, and they would be
    // answered as failed though stored.
    let commit = !self.turn_mut()?.named_writes;
    let rows = self.run_in_turn(vec![claim, earliest], commit)?;
    if commit {
      self.committed_early();
    }
    let claimed =
      queue::claimed(rows.first().map_or(&[][..], |r| r), deadline)?;
    let ready = min_of(rows.get(1))?;
    self.turn_mut()?.ready = Some(ready);
    self.claims_full = claimed.len() >= max;
    if commit && !plain {
      self.registered = registered.after_claim(now, claimed.len(), max, alive);
    }
    Ok(claimed)
  }

  fn claims_cheaply(&self) -> bool {
    true
  }

  fn unwanted_handoffs(&mut self) -> Vec<LeaseKey> {
    let handed = self.all_handed();
    self.unregister |= !handed.is_empty();
    handed.iter().map(Handed::lease).collect()
  }

  /// Blind writes go out with their commit ([`Self::write_blind`]).
  fn commits_writes_alone(&self) -> bool {
    true
  }

  /// The anonymous queue's leases and named queues' in one round trip.
  fn renew(&mut self, leases: &[LeaseKey], deadline: i64) -> Result<Vec<bool>> {
    let (named_leases, anonymous): (Vec<&LeaseKey>, Vec<&LeaseKey>) =
      leases.iter().partition(|l| l.queue.is_some());
    let mut stmts = Vec::with_capacity(2);
    if !anonymous.is_empty() {
      let owned: Vec<LeaseKey> =
        anonymous.iter().map(|l| (*l).clone()).collect();
      let params = queue::renew_params(&owned, deadline)?;
      stmts.push(Stmt::new(&self.sql.renew, params));
    }
    if !named_leases.is_empty() {
      stmts.push(named::renew_stmt(&self.sql.named, &named_leases, deadline));
    }
    if stmts.is_empty() {
      return Ok(Vec::new());
    }
    let rows = self.run_in_turn(stmts, false)?;
    let mut rows = rows.iter();
    let anonymous_held = match anonymous.is_empty() {
      true => Vec::new(),
      false => {
        let owned: Vec<LeaseKey> =
          anonymous.iter().map(|l| (*l).clone()).collect();
        queue::renewed(&owned, rows.next().map_or(&[][..], |r| r))?
      }
    };
    let named_held = match named_leases.is_empty() {
      true => Vec::new(),
      false => {
        named::renewed(&named_leases, rows.next().map_or(&[][..], |r| r))?
      }
    };
    let (mut a, mut n) = (anonymous_held.into_iter(), named_held.into_iter());
    let turn = self.turn_mut()?;
    let mut out = Vec::with_capacity(leases.len());
    for lease in leases {
      let held = match lease.queue {
        None => a.next().unwrap_or(false),
        Some(_) => n.next().unwrap_or(false),
      };
      if !held {
        // Lost: the engine will not answer for it.
        turn.held.left(lease);
      }
      out.push(held);
    }
    Ok(out)
  }

  /// Buffered until the turn's next statement or its commit; answers true
  /// (the engine does not act on the answer, and an acknowledgement of a
  /// lease that is no longer ours changes nothing).
  fn acknowledge(&mut self, lease: &LeaseKey) -> Result<bool> {
    let Some(queue) = lease.queue.as_deref() else {
      self.turn_mut()?.queue.acknowledge(lease)?;
      return Ok(true);
    };
    // Its group, if any, moves on: locked first (named.rs).
    let group = self.held.group_of(lease).map(str::to_string);
    let turn = self.turn_mut()?;
    if let Some(group) = group {
      turn.named.lock_group(queue, &group);
    }
    // A group's next message is due no earlier than this (named.rs).
    turn
      .named
      .acknowledge(lease, chrono::Utc::now().timestamp_millis());
    turn.held.left(lease);
    turn.named_earliest.clear();
    Ok(true)
  }

  /// Buffered like [`Backend::acknowledge`], and answered true likewise.
  fn release(&mut self, lease: &LeaseKey, now: i64) -> Result<bool> {
    let turn = self.turn_mut()?;
    match lease.queue {
      None => {
        turn.queue.release(lease, now)?;
        turn.made_ready(now);
      }
      Some(_) => {
        turn.named.release(lease, now);
        turn.held.left(lease);
        turn.named_earliest.clear();
      }
    }
    turn.notify = true;
    Ok(true)
  }

  fn fail(&mut self, lease: &LeaseKey, now: i64) -> Result<Failed> {
    if let Some(queue) = lease.queue.as_deref() {
      return self.fail_named(queue, lease, now);
    }
    let id = queue::lease_id(lease)?;
    // The counter's lock first, as every transaction that may write KV
    // rows (a dead letter) takes it before any row lock.
    self.lock_version()?;
    let params: Vec<Param> = vec![Box::new(id), Box::new(lease.deadline)];
    let stmt = Stmt::new(&self.sql.lock_running, params);
    let rows = self.run_in_turn(vec![stmt], false)?;
    let found = queue::running(rows.first().map_or(&[][..], |r| r))?;
    let Some(message) = found else {
      // No longer this lease's, or another process is taking it back.
      return Ok(Failed::Gone);
    };
    let sql = self.sql.clone();
    let turn = self.turn_mut()?;
    turn.notify = true;
    if let Some((stmt, ts)) = queue::requeue(&sql, id, now, &message.schedule)?
    {
      turn.queue.push(stmt);
      turn.made_ready(ts);
      return Ok(Failed::Requeued);
    }
    turn
      .queue
      .push(Stmt::new(&sql.delete_message, vec![Box::new(id)]));
    if message.keys.is_empty() {
      return Ok(Failed::Undelivered(message.keys));
    }
    let version = self.next_version(crate::encoding::version_step())?;
    let turn = self.turn_mut()?;
    for (key, state) in kv::dead_letters(&message.keys, &message.data, version)
    {
      turn.kv.put(key, state);
    }
    Ok(Failed::Undelivered(message.keys))
  }

  fn collect_expired(&mut self, now: i64) -> Result<Vec<Vec<u8>>> {
    // The counter's lock first (see `fail`); the version moves by 1 when
    // anything expired, as on SQLite.
    self.lock_version()?;
    let stmt = Stmt::new(&self.sql.delete_expired, vec![Box::new(now)]);
    let rows = self.run_in_turn(vec![stmt], false)?;
    let mut keys = Vec::new();
    for row in rows.first().map_or(&[][..], |r| r) {
      keys.push(row.try_get::<_, Vec<u8>>(0).map_err(|e| {
        Error::Postgres(format!("reading an expired key: {e}"))
      })?);
    }
    if !keys.is_empty() {
      self.next_version(1)?;
      self.turn_mut()?.notify = true;
    }
    Ok(keys)
  }

  /// Both kinds of queue in one round trip. The periodic sweep also
  /// deletes a page of dedup windows that ended (named.rs), with SKIP
  /// LOCKED: nothing else looks for them, and a duplicate is decided by
  /// its window's end, not by the row being there.
  fn lapsed(&mut self, now: i64) -> Result<Vec<LeaseKey>> {
    let stmts = [
      Stmt::new(&self.sql.lapsed, vec![Box::new(now)]),
      Stmt::new(&self.sql.named.lapsed, vec![Box::new(now)]),
      Stmt::new(&self.sql.named.dedup_expire, vec![Box::new(now)]),
    ];
    let rows = self.run_alone(&stmts)?;
    let mut out = queue::leases(rows.first().map_or(&[][..], |r| r))?;
    out.extend(named::leases(rows.get(1).map_or(&[][..], |r| r))?);
    Ok(out)
  }

  /// A message handed to this store is due now: the claim takes it.
  fn earliest_ready(&mut self) -> Result<Option<i64>> {
    let handed = !self.handed.is_empty()
      || self.listener.as_ref().is_some_and(Listener::has_handed);
    if handed {
      return Ok(Some(0));
    }
    if let Some(known) = self.turn.as_ref().and_then(|t| t.ready) {
      return Ok(known);
    }
    let stmt = Stmt::new(&self.sql.earliest_ready, Vec::new());
    self.earliest(stmt)
  }

  fn earliest_expiry(&mut self) -> Result<Option<i64>> {
    let stmt = Stmt::new(&self.sql.earliest_expiry, Vec::new());
    self.earliest(stmt)
  }

  /// Inside a normal turn (on Postgres the engine never puts named
  /// enqueues in a turn with plain writes, which commit on their own).
  /// The groups' locks go first, before the version counter's (named.rs),
  /// then the atomic write as [`Backend::write`] does it, then one round
  /// trip for the dedup windows (and the counter's lock when no atomic
  /// write took it); the rows go out with the turn's next statement.
  fn write_named(
    &mut self,
    write: &NamedWrite,
    now: i64,
  ) -> Result<NamedApplied> {
    let sql = self.sql.clone();
    let turn = self.turn_mut()?;
    for e in &write.enqueues {
      if let Some(group) = &e.group {
        turn.named.lock_group(&e.queue, group);
      }
    }
    // An enqueue already answered as no duplicate undoes the whole write
    // if it meets one: everything of this write goes after a savepoint.
    let undoable = write.enqueues.iter().any(|e| e.unique && e.dedup.is_some());
    let before = match undoable {
      true => Some(self.savepoint()?),
      false => None,
    };
    let mut out = NamedApplied::default();
    let atomic = match &write.atomic {
      Some(atomic) => {
        out.applied = self.write(atomic, now)?;
        match out.applied.versionstamp {
          Some(vs) => Some(vs),
          // A check failed: nothing is stored (the group locks taken, if
          // any, change nothing).
          None => {
            if before.is_some() {
              let release = Stmt::simple("release savepoint kvq_named_write");
              self.turn_mut()?.named.push(release);
            }
            return Ok(out);
          }
        }
      }
      None => None,
    };
    let lock = atomic.is_none() && self.turn_mut()?.version.is_none();
    // The dedup windows record this commit's version: the counter's row
    // holds the atomic write's by the time they run (its move is sent
    // first); otherwise the version is one step past the row.
    let step = match atomic {
      Some(_) => 0,
      None => crate::encoding::version_step(),
    };
    let mut stmts = Vec::new();
    if lock {
      stmts.push(Stmt::new(&sql.bump_version, vec![Box::new(0i64)]));
    }
    for e in &write.enqueues {
      stmts.extend(named::dedup_stmts(&sql.named, e, now, step));
    }
    let rows = match stmts.is_empty() {
      true => Vec::new(),
      false => self.run_in_turn(stmts, false)?,
    };
    let mut rows = rows.iter();
    if lock {
      let v = self.version_of(rows.as_slice())?;
      rows.next();
      self.turn_mut()?.version = Some(v);
    }
    let versionstamp = match atomic {
      Some(vs) => vs,
      None => crate::encoding::versionstamp(self.next_version(step)?),
    };
    let mut enqueued = Vec::with_capacity(write.enqueues.len());
    let mut added = named::NewRows::default();
    let mut woken = Vec::new();
    for e in &write.enqueues {
      let duplicate = match e.dedup {
        None => None,
        Some(_) => {
          let put = rows.next().map_or(&[][..], |r| r);
          let get = rows.next().map_or(&[][..], |r| r);
          named::duplicate_of(put, get)?
        }
      };
      match duplicate {
        Some((first, version)) => {
          if e.unique {
            if let Some(before) = before {
              self.undo(before)?;
            }
            return Ok(NamedApplied::default());
          }
          let vs = crate::encoding::versionstamp(version);
          enqueued.push(Enqueued::Duplicate(first, vs));
        }
        None => {
          added.push_enqueue(e);
          enqueued.push(Enqueued::Added);
          // A message behind a group's head is not ready yet, but telling
          // the queue's listeners costs them one claim that finds nothing,
          // and knowing which would cost a round trip here.
          if !woken.contains(&e.queue) {
            woken.push(e.queue.clone());
          }
        }
      }
    }
    out.woken = woken;
    let turn = self.turn_mut()?;
    if before.is_some() {
      turn
        .named
        .push(Stmt::simple("release savepoint kvq_named_write"));
    }
    turn.named_writes = true;
    turn.named_earliest.clear();
    if !added.is_empty() {
      let stmt = added.into_stmt(&sql.named, turn.stripe);
      turn.named.push(stmt);
      turn.notify = true;
    }
    out.committed = Some(NamedCommitted {
      versionstamp,
      enqueued,
    });
    Ok(out)
  }

  fn has_named_queues(&self) -> bool {
    true
  }

  /// One statement for the batch, `FOR UPDATE SKIP LOCKED`, with the
  /// queue's earliest ready time in the same round trip. Unlike the
  /// anonymous queue's claim it does not commit: another named queue's
  /// claim may follow in the turn, and if that failed, these messages
  /// would sit leased to nobody until their lease lapsed (an attempt
  /// counted against them) and the turn's enqueues would be answered as
  /// failed though stored.
  fn claim_named(
    &mut self,
    queue: &str,
    now: i64,
    deadline: i64,
    max: usize,
  ) -> Result<Vec<Claimed>> {
    let stmts = named::claim_stmts(&self.sql.named, queue, now, deadline, max);
    let rows = self.run_in_turn(stmts, false)?;
    let queue_arc: Arc<str> = Arc::from(queue);
    let claimed = named::claimed(
      rows.first().map_or(&[][..], |r| r),
      &queue_arc,
      deadline,
    )?;
    let at = min_of(rows.get(1))?;
    let turn = self.turn_mut()?;
    turn.held.claimed(&claimed);
    turn.named_earliest.insert(queue.to_string(), at);
    Ok(claimed)
  }

  fn earliest_named(&mut self, queue: &str) -> Result<Option<i64>> {
    let known = self
      .turn
      .as_ref()
      .and_then(|t| t.named_earliest.get(queue).copied());
    if let Some(known) = known {
      return Ok(known);
    }
    self.earliest(named::earliest_stmt(&self.sql.named, queue))
  }

  /// Buffered, and answered as if the lease still held (the engine only
  /// notes the answer; a verdict on a lease no longer ours changes
  /// nothing).
  fn settle_named(
    &mut self,
    lease: &LeaseKey,
    verdict: &Verdict,
    now: i64,
  ) -> Result<Failed> {
    let Some(queue) = lease.queue.as_deref() else {
      return Ok(Failed::Gone);
    };
    let sql = self.sql.clone();
    let ctx = self.named_ctx()?;
    let group = self.held.group_of(lease).map(str::to_string);
    let turn = self.turn_mut()?;
    turn.held.left(lease);
    turn.named_earliest.clear();
    match verdict {
      Verdict::Retry { at, error } => {
        let stmt =
          named::retry_stmt(&sql.named, lease, *at, error, true, ctx.stripe);
        turn.named.push(stmt);
        turn.notify = true;
        Ok(Failed::Requeued)
      }
      Verdict::Dead { error } => {
        if let Some(group) = group {
          turn.named.lock_group(queue, &group);
        }
        let stmt = named::bury_stmt(&sql.named, lease, error, now, true, &ctx);
        turn.named.push(stmt);
        Ok(Failed::Undelivered(Vec::new()))
      }
    }
  }

  fn named_admin(
    &mut self,
    what: &NamedAdmin,
    now: i64,
  ) -> Result<NamedAnswer> {
    let pool = self.pool.clone();
    let sql = self.sql.clone();
    // This store's own listener hears these too (named_admin.rs).
    let ctx = named::Ctx {
      channel: self.channel.clone(),
      me: format!("{}:admin", self.me),
      stripe: rand::random::<i16>().rem_euclid(named::STRIPES),
    };
    let result = self.rt()?.block_on(async {
      let client = pool.get().await.map_err(Err)?;
      named_admin::answer(&client, &sql.named, what, now, &ctx)
        .await
        .map_err(Ok)
    });
    match result {
      Ok(answer) => Ok(answer),
      Err(Err(e)) => Err(self.pool_error(&e)),
      Err(Ok(named_admin::Failure::Pg(e))) => Err(self.error(&e, false)),
      Err(Ok(named_admin::Failure::Other(e))) => Err(e),
    }
  }

  fn expiries(&mut self, keys: &[Vec<u8>]) -> Result<Option<Vec<Option<i64>>>> {
    let stmt = inspect::expiries_stmt(&self.config.schema, keys);
    let rows = self.run_alone(&[stmt])?;
    inspect::expiries(keys, rows.first()).map(Some)
  }

  fn pending(
    &mut self,
    cursor: Option<&str>,
    limit: usize,
  ) -> Result<Option<crate::engine::PendingPage>> {
    let stmt = inspect::pending_stmt(&self.config.schema, cursor, limit)?;
    let rows = self.run_alone(&[stmt])?;
    inspect::pending(rows.first(), limit).map(Some)
  }

  fn change_token(&mut self) -> Result<i64> {
    Ok(self.listener.as_ref().map_or(0, Listener::token))
  }

  fn set_wake(&mut self, wake: Box<dyn Fn() + Send + Sync>) {
    if let Some(listener) = &self.listener {
      listener.set_wake(wake);
    }
  }

  fn is_busy(&self, error: &Error) -> bool {
    self.conflict && matches!(error, Error::Postgres(_))
  }

  fn close(&mut self) -> Result<()> {
    self.rollback();
    self.pool.close();
    if let Some(mut listener) = self.listener.take() {
      listener.stop();
    }
    if let Some(rt) = self.rt.take() {
      rt.shutdown_timeout(Duration::from_secs(1));
    }
    Ok(())
  }
}

impl Drop for PostgresBackend {
  fn drop(&mut self) {
    // Normally closed by the engine already. Dropped on an async caller's
    // thread (a store that never started), nothing may block here.
    if tokio::runtime::Handle::try_current().is_ok() {
      self.turn = None;
      self.pool.close();
      if let Some(rt) = self.rt.take() {
        rt.shutdown_background();
      }
      return;
    }
    let _ = self.close();
  }
}

fn pool_error_text(e: &PoolError) -> String {
  match e {
    PoolError::Backend(e) => pipeline::describe(e),
    PoolError::Timeout(_) => "timed out waiting for a connection".into(),
    PoolError::Closed => "the store is closed".into(),
    other => other.to_string(),
  }
}
