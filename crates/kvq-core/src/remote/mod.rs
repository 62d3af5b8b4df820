//! The KV Connect backend: `openKv("http://…" | "https://…")` against a
//! denokv server or Deno Deploy's KV, on denokv_proto's protobuf messages.
//!
//! - [`config`]: the URL and the access token (option or environment);
//! - [`http`]: the HTTP client (hyper, rustls with ring);
//! - [`metadata`]: the metadata exchange (protocols 2 and 3) and its
//!   refresh before expiry;
//! - [`call`]: the data-path calls, retries and Deno's error messages;
//! - [`convert`]: engine types to KV Connect messages and back;
//! - [`watch`]: the server's watch streams, which tell the engine that
//!   another process wrote a key this process watches;
//! - [`backend`]: the engine's `Backend` on top of it all.
//!
//! The queue on a KV Connect store is not here: the protocol has none, so
//! the TypeScript layer routes `enqueue`/`listenQueue` of a remote store to
//! its queue made of keys (jsr/src/kvqueue, docs/queues-on-kv.md).

mod backend;
mod call;
mod config;
mod convert;
mod http;
mod metadata;
mod watch;

use std::collections::VecDeque;
use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::Weak;

pub use backend::RemoteBackend;
pub use call::RETRY_FOR;
pub use config::RemoteConfig;
pub use config::TOKEN_VARIABLE;

use crate::engine::OpenOptions;
use crate::engine::Store;
use crate::error::Error;
use crate::error::Result;

/// Opens a KV Connect database: reads the token, runs the metadata
/// exchange (failing as Deno's `openKv` does) and starts the engine on it.
/// Blocks: call it off any event loop (`ops::open_then` does).
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
  let config = RemoteConfig::parse(url, &json)?;
  // The runtime cannot be entered from inside another one (a Rust caller's
  // async fn): the exchange runs on a thread of its own.
  let (rt, client) = std::thread::scope(|scope| {
    scope
      .spawn(|| connect(config))
      .join()
      .unwrap_or_else(|p| Err(Error::from_panic(p.as_ref())))
  })?;
  let notifier = watch::Notifier {
    changes: Arc::new(AtomicI64::new(0)),
    wake: Arc::new(Mutex::new(None)),
  };
  let hub = Arc::new(WatchHub {
    handle: rt.handle().clone(),
    client: client.clone(),
    notifier: notifier.clone(),
    followed: Mutex::new(VecDeque::new()),
  });
  let backend = RemoteBackend::new(rt, client, notifier, hub.clone());
  let store = Store::with_backend(Box::new(backend), None, options)?;
  register(&store, &hub);
  Ok(store)
}

fn connect(
  config: RemoteConfig,
) -> Result<(tokio::runtime::Runtime, Arc<call::Client>)> {
  let rt = tokio::runtime::Builder::new_multi_thread()
    .worker_threads(2)
    .thread_name("kvq-remote")
    .enable_all()
    .build()
    .map_err(|e| Error::Internal(format!("starting the runtime: {e}")))?;
  let client = rt.block_on(call::Client::connect(config))?;
  Ok((rt, client))
}

/// The most distinct key sets one store follows on the server; the oldest
/// is dropped past it (its watchers then learn of other processes' writes
/// no more, but still of this process's own).
const MAX_FOLLOWED: usize = 64;

/// A key set followed on the server, and the task that follows it.
type Followed = (Vec<Vec<u8>>, tokio::task::JoinHandle<()>);

/// The server watches of one store, by key set.
pub struct WatchHub {
  handle: tokio::runtime::Handle,
  client: Arc<call::Client>,
  notifier: watch::Notifier,
  followed: Mutex<VecDeque<Followed>>,
}

impl WatchHub {
  fn follow(&self, keys: &[Vec<u8>]) {
    let mut keys = keys.to_vec();
    keys.sort();
    keys.dedup();
    let mut followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
    if followed.iter().any(|(k, _)| *k == keys) {
      return;
    }
    if followed.len() >= MAX_FOLLOWED {
      if let Some((_, task)) = followed.pop_front() {
        task.abort();
      }
    }
    let task = self.handle.spawn(watch::follow(
      self.client.clone(),
      keys.clone(),
      self.notifier.clone(),
    ));
    followed.push_back((keys, task));
  }

  fn stop(&self) {
    let mut followed = self.followed.lock().unwrap_or_else(|p| p.into_inner());
    for (_, task) in followed.drain(..) {
      task.abort();
    }
  }
}

/// Open remote stores, by the address of their shared limits (one per
/// store, alive as long as any clone of it): the bindings hold an engine
/// [`Store`] and call `ops::watch` with it, which is where a remote store
/// learns which keys to follow on the server. Dead entries are pruned on
/// each registration.
static STORES: Mutex<Vec<(usize, Weak<WatchHub>)>> = Mutex::new(Vec::new());

fn identity(store: &Store) -> usize {
  store.limits() as *const crate::limits::Limits as usize
}

fn register(store: &Store, hub: &Arc<WatchHub>) {
  let id = identity(store);
  let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
  stores.retain(|(i, w)| w.strong_count() > 0 && *i != id);
  stores.push((id, Arc::downgrade(hub)));
}

/// Called by `ops::watch` for every watch: on a remote store, follows
/// `keys` on the server so that other processes' writes wake the watch.
pub fn watching(store: &Store, keys: &[Vec<u8>]) {
  let id = identity(store);
  let hub = {
    let stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    stores
      .iter()
      .find(|(i, _)| *i == id)
      .and_then(|(_, w)| w.upgrade())
  };
  if let Some(hub) = hub {
    hub.follow(keys);
  }
}
