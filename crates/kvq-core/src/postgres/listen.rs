//! How a store learns that another process committed: LISTEN on a session
//! connection of its own, held by a thread of its own.
//!
//! Every transaction that writes something a watcher or a listener cares
//! about (keys, messages made ready) sends `NOTIFY kvq:<schema>` with the
//! sending store's id as payload; the listening thread counts the others'
//! notifications, and that count is the engine's change token. When the
//! session is lost (a restart, `pg_terminate_backend`), the thread
//! reconnects with backoff, and counts one change on every attempt, since
//! a notification may have been missed: the engine then looks again. A
//! backstop counts one change a second whatever happens, so a lost
//! notification costs at most that. `LISTEN` needs a session connection,
//! so a transaction-pooling PgBouncer defeats it: the store still works,
//! its wake-ups come from the backstop only.
//!
//! The same session listens on the store's own channel, where another
//! process hands over a message it leased to this store (queue.rs,
//! "hand-off"): the thread keeps it for the engine's next claim and wakes
//! the engine. The session holds an advisory lock named after the store
//! for as long as it lives: a process about to hand a message over tries
//! the lock, and one it can take belongs to a session that is gone.

use std::sync::atomic::AtomicBool;
use std::sync::atomic::AtomicI64;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_postgres::AsyncMessage;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::queue::Handed;
use super::schema::quote_ident;

/// The first pause before reconnecting; it doubles up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);
/// The longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// The backstop: a change is counted this often even when no notification
/// came, so a lost one (or a PgBouncer in transaction mode, which drops
/// LISTEN) delays a delivery or a watch by at most this long.
const BACKSTOP: Duration = Duration::from_secs(1);

/// What wakes the engine when the token moves (set once the engine runs).
pub type Wake = Box<dyn Fn() + Send + Sync>;

/// The listening thread and what it shares with the backend.
pub struct Listener {
  shared: Arc<Shared>,
  thread: Option<std::thread::JoinHandle<()>>,
}

struct Shared {
  token: AtomicI64,
  /// A wake-up was sent and the engine has not read the token since: no
  /// need for another (a burst of notifications is one wake-up).
  woken: AtomicBool,
  stopped: AtomicBool,
  stop: Notify,
  wake: Mutex<Option<Wake>>,
  /// Messages handed to this store, not yet taken by a claim.
  handed: Mutex<Vec<Handed>>,
  /// The advisory lock the LISTEN session holds, 0 while there is none.
  alive: AtomicI64,
}

impl Shared {
  /// A hand-off notification: kept for the next claim, and the engine
  /// woken. A malformed one (not kvq's) is a change like any other.
  fn handed(&self, payload: &str) {
    if let Some(h) = Handed::parse(payload) {
      self
        .handed
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(h);
    }
    self.changed();
  }

  fn changed(&self) {
    self.token.fetch_add(1, Ordering::SeqCst);
    if self.woken.swap(true, Ordering::SeqCst) {
      return;
    }
    let wake = self.wake.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(wake) = wake.as_ref() {
      wake();
    }
  }
}

impl Listener {
  /// Starts listening on `channel`, ignoring notifications whose payload
  /// is `me` (this store's own commits).
  pub fn start(
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    channel: String,
    me: String,
  ) -> std::io::Result<Listener> {
    let shared = Arc::new(Shared {
      token: AtomicI64::new(0),
      woken: AtomicBool::new(false),
      stopped: AtomicBool::new(false),
      stop: Notify::new(),
      wake: Mutex::new(None),
      handed: Mutex::new(Vec::new()),
      alive: AtomicI64::new(0),
    });
    let theirs = shared.clone();
    let thread = std::thread::Builder::new()
      .name("kvq-pg-listen".into())
      .spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
          .enable_all()
          .build();
        if let Ok(rt) = rt {
          rt.block_on(listen(&theirs, config, tls, &channel, &me));
        }
      })?;
    Ok(Listener {
      shared,
      thread: Some(thread),
    })
  }

  /// The number of changes seen so far.
  pub fn token(&self) -> i64 {
    self.shared.woken.store(false, Ordering::SeqCst);
    self.shared.token.load(Ordering::SeqCst)
  }

  /// The messages handed over since the last call.
  pub fn take_handed(&self) -> Vec<Handed> {
    std::mem::take(
      &mut *self.shared.handed.lock().unwrap_or_else(|p| p.into_inner()),
    )
  }

  /// Whether a message was handed over and not yet taken.
  pub fn has_handed(&self) -> bool {
    !self
      .shared
      .handed
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .is_empty()
  }

  /// The advisory lock the LISTEN session holds, 0 while not listening.
  pub fn alive(&self) -> i64 {
    self.shared.alive.load(Ordering::SeqCst)
  }

  /// Calls `wake` on every change from now on.
  pub fn set_wake(&self, wake: Wake) {
    *self.shared.wake.lock().unwrap_or_else(|p| p.into_inner()) = Some(wake);
  }

  /// Stops the thread and waits for it.
  pub fn stop(&mut self) {
    self.shared.stopped.store(true, Ordering::SeqCst);
    self.shared.stop.notify_one();
    self
      .shared
      .wake
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .take();
    if let Some(thread) = self.thread.take() {
      let _ = thread.join();
    }
  }
}

impl Drop for Listener {
  fn drop(&mut self) {
    self.stop();
  }
}

/// The channel on which other processes hand messages to store `me`.
pub fn handed_channel(me: &str) -> String {
  format!("kvq_h_{me}")
}

/// The advisory lock a store's LISTEN session holds: its random id as a
/// number (never 0, which means "no session").
fn alive_key(me: &str) -> i64 {
  let key = u64::from_str_radix(me, 16).unwrap_or(1) as i64;
  if key == 0 {
    1
  } else {
    key
  }
}

async fn listen(
  shared: &Shared,
  config: tokio_postgres::Config,
  tls: MakeRustlsConnect,
  channel: &str,
  me: &str,
) {
  let mut backoff = MIN_BACKOFF;
  while !shared.stopped.load(Ordering::SeqCst) {
    if let Ok((client, mut connection)) = config.connect(tls.clone()).await {
      let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
      // The connection is driven here; it hands notifications over and
      // ends (dropping `tx`) when the session is lost.
      let driver = tokio::spawn(async move {
        loop {
          let message =
            std::future::poll_fn(|cx| connection.poll_message(cx)).await;
          match message {
            Some(Ok(AsyncMessage::Notification(n))) => {
              let note = (n.channel().to_string(), n.payload().to_string());
              if tx.send(note).is_err() {
                break;
              }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => break,
          }
        }
      });
      let mine = handed_channel(me);
      let listening = client
        .batch_execute(&format!(
          "listen {}; listen {}",
          quote_ident(channel),
          quote_ident(&mine)
        ))
        .await;
      let key = alive_key(me);
      let locked = match listening {
        Ok(()) => client.execute("select pg_advisory_lock($1)", &[&key]).await,
        Err(e) => Err(e),
      };
      if locked.is_ok() {
        backoff = MIN_BACKOFF;
        shared.alive.store(key, Ordering::SeqCst);
        // Whatever happened before LISTEN took effect is unknown.
        shared.changed();
        let mut backstop = tokio::time::interval(BACKSTOP);
        backstop
          .set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        backstop.tick().await;
        loop {
          tokio::select! {
            note = rx.recv() => match note {
              Some((c, p)) if c == mine => shared.handed(&p),
              Some((_, p)) if p == me => {}
              Some(_) => shared.changed(),
              None => break,
            },
            _ = backstop.tick() => shared.changed(),
            _ = shared.stop.notified() => break,
          }
        }
        shared.alive.store(0, Ordering::SeqCst);
      }
      driver.abort();
      drop(client);
    }
    if shared.stopped.load(Ordering::SeqCst) {
      return;
    }
    // Lost or never made: what was missed meanwhile is unknown, so the
    // engine looks again now and after every attempt.
    shared.changed();
    tokio::select! {
      _ = tokio::time::sleep(backoff) => {}
      _ = shared.stop.notified() => return,
    }
    backoff = (backoff * 2).min(MAX_BACKOFF);
  }
}
