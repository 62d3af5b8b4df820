//! The data path: one [`Client`] per open database, holding the metadata
//! (refreshed in the background) and the connection pool. Each call is
//! one POST; 5xx answers and dropped connections are retried with
//! randomized exponential backoff (as Deno's client does, from 200 ms)
//! for at most [`RETRY_FOR`], then fail with the last reason. A 4xx fails
//! at once with Deno's message: "KV Connect failed to call '<url>'
//! (status=<code> <reason>): <body>". No text built here holds a token.

use std::sync::Arc;
use std::time::Duration;
use std::time::Instant;

use bytes::Bytes;
use denokv_proto::datapath as pb;
use denokv_proto::AtomicWrite;
use denokv_proto::ReadRange;
use denokv_proto::ReadRangeOutput;
use denokv_proto::Versionstamp;
use hyper::body::Incoming;
use prost::Message;
use rand::Rng;

use super::config::shown;
use super::config::RemoteConfig;
use super::convert;
use super::http::read_body;
use super::http::Http;
use super::metadata;
use super::metadata::Current;
use super::metadata::ExchangeError;
use crate::error::Error;
use crate::error::Result;

/// The first backoff of a retried data-path call (Deno's base).
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// The longest backoff between two tries.
const BACKOFF_MAX: Duration = Duration::from_secs(5);
/// How long a data-path call keeps retrying before it fails: long enough
/// for a server restart, short enough that a caller learns of an outage.
pub const RETRY_FOR: Duration = Duration::from_secs(30);
/// How long opening keeps retrying an unreachable metadata endpoint.
pub const OPEN_RETRY_FOR: Duration = Duration::from_secs(5);

/// A connected KV Connect database.
pub struct Client {
  http: Http,
  config: RemoteConfig,
  metadata: Current,
}

impl Client {
  /// Runs the first metadata exchange (retrying an unreachable server for
  /// [`OPEN_RETRY_FOR`]); fails with Deno's "Could not open Deno KV
  /// database: ..." TypeError. Call inside the client's runtime.
  pub async fn connect(config: RemoteConfig) -> Result<Arc<Client>> {
    let http = Http::new()?;
    let start = Instant::now();
    let mut attempt = 0;
    let first = loop {
      match metadata::exchange(&http, &config).await {
        Ok(m) => break m,
        Err(ExchangeError::Retry(why)) if start.elapsed() < OPEN_RETRY_FOR => {
          drop(why);
          backoff(attempt).await;
          attempt += 1;
        }
        Err(ExchangeError::Retry(why) | ExchangeError::Refused(why)) => {
          let why = hide(&why, &[config.token.secret()]);
          return Err(Error::RemoteOpen(format!(
            "Could not open Deno KV database: {why}"
          )));
        }
      }
    };
    let metadata: Current = Arc::new(std::sync::RwLock::new(Arc::new(first)));
    tokio::spawn(metadata::refresh_task(
      http.clone(),
      config.clone(),
      metadata.clone(),
    ));
    Ok(Arc::new(Client {
      http,
      config,
      metadata,
    }))
  }

  /// Reads `ranges` from one snapshot.
  pub async fn snapshot_read(
    &self,
    ranges: &[ReadRange],
  ) -> Result<Vec<ReadRangeOutput>> {
    let request = convert::snapshot_read(ranges);
    let (body, version) = self.call("snapshot_read", &request).await?;
    let body = read_body(body).await.map_err(|e| {
      Error::Remote(format!("KV Connect failed to read response body: {}", e.0))
    })?;
    let out = pb::SnapshotReadOutput::decode(body).map_err(|_| decode())?;
    convert::read_output(out, version)
  }

  /// Commits `write`: its versionstamp, or `None` when a check failed.
  pub async fn atomic_write(
    &self,
    write: &AtomicWrite,
  ) -> Result<Option<Versionstamp>> {
    if !write.enqueues.is_empty() {
      return Err(Error::Remote(
        "Enqueue operations are not supported in KV Connect".into(),
      ));
    }
    let request = convert::atomic_write(write);
    let (body, _) = self.call("atomic_write", &request).await?;
    let body = read_body(body).await.map_err(|e| {
      Error::Remote(format!("KV Connect failed to read response body: {}", e.0))
    })?;
    let out = pb::AtomicWriteOutput::decode(body).map_err(|_| decode())?;
    convert::write_output(out)
  }

  /// Opens a watch stream on `keys` (protocol 3): the body of frames that
  /// [`super::watch`] reads. `None` when the server speaks version 2.
  pub async fn watch(&self, keys: &[Vec<u8>]) -> Result<Option<Incoming>> {
    if metadata::read(&self.metadata).version < 3 {
      return Ok(None);
    }
    let request = pb::Watch {
      keys: keys
        .iter()
        .map(|k| pb::WatchKey { key: k.clone() })
        .collect(),
    };
    let (body, _) = self.call("watch", &request).await?;
    Ok(Some(body))
  }

  /// POSTs `request` to `method`, retrying as the module comment says.
  /// Returns the 200 response's body and the protocol version used.
  async fn call(
    &self,
    method: &str,
    request: &impl Message,
  ) -> Result<(Incoming, u64)> {
    let body = Bytes::from(request.encode_to_vec());
    let start = Instant::now();
    let mut attempt = 0u32;
    loop {
      let m = metadata::read(&self.metadata);
      let url = m.method_url(method)?;
      let secrets = [self.config.token.secret(), m.secret()];
      let why = match self.http.post(&url, &m.headers(), body.clone()).await {
        Ok(r) if r.status == http::StatusCode::OK => {
          return Ok((r.body, m.version))
        }
        Ok(r) if r.status.is_server_error() => {
          let text = read_body(r.body).await.unwrap_or_default();
          format!(
            "KV Connect failed to call '{}' (status={}): {}",
            shown(&url),
            r.status,
            String::from_utf8_lossy(&text)
          )
        }
        Ok(r) => {
          let text = read_body(r.body).await.unwrap_or_default();
          let message = format!(
            "KV Connect failed to call '{}' (status={}): {}",
            shown(&url),
            r.status,
            String::from_utf8_lossy(&text)
          );
          return Err(Error::Remote(hide(&message, &secrets)));
        }
        Err(dropped) => {
          format!("KV Connect failed to call '{}': {}", shown(&url), dropped.0)
        }
      };
      if start.elapsed() >= RETRY_FOR {
        return Err(Error::Remote(hide(&why, &secrets)));
      }
      backoff(attempt).await;
      attempt += 1;
    }
  }
}

fn decode() -> Error {
  Error::Remote("KV Connect failed to decode response".into())
}

/// Sleeps the randomized exponential backoff of try `attempt`.
async fn backoff(attempt: u32) {
  let base = BACKOFF_BASE.as_millis() as u64;
  let ms = (base << attempt.min(5)).min(BACKOFF_MAX.as_millis() as u64);
  let ms = ms + rand::thread_rng().gen_range(0..=ms / 2);
  tokio::time::sleep(Duration::from_millis(ms)).await;
}

/// `text` with every secret in it replaced by `***` (a server may echo a
/// header back in an error body).
fn hide(text: &str, secrets: &[&str]) -> String {
  let mut text = text.to_string();
  for secret in secrets.iter().filter(|s| !s.is_empty()) {
    text = text.replace(secret, "***");
  }
  text
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn secrets_are_hidden() {
    assert_eq!(hide("bad token abc here", &["abc"]), "bad token *** here");
    assert_eq!(hide("nothing", &[""]), "nothing");
  }
}
