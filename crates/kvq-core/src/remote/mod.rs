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
//! - [`batch`]: the order a turn's writes must keep when sent at once;
//! - [`backend`]: the engine's `Backend` on top of it all.
//!
//! The queue on a KV Connect store is not here: the protocol has none, so
//! the TypeScript layer routes `enqueue`/`listenQueue` of a remote store to
//! its queue made of keys (jsr/src/kvqueue, docs/queues-on-kv.md).

mod backend;
mod batch;
mod call;
mod config;
mod convert;
mod http;
mod metadata;
mod watch;

use std::sync::atomic::AtomicI64;
use std::sync::Arc;
use std::sync::Mutex;

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
  let backend = RemoteBackend::new(rt, client, notifier);
  Store::with_backend(Box::new(backend), None, options)
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
