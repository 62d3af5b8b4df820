//! The metadata exchange (denokv `proto/kv-connect.md`): POST the user's
//! token to the URL given to `openKv`, get back the protocol version, the
//! data-path endpoint and a token for it, valid until `expiresAt`. kvq
//! speaks versions 2 and 3 and refreshes the metadata before it expires.

use std::sync::Arc;
use std::sync::RwLock;
use std::time::Duration;

use bytes::Bytes;
use chrono::DateTime;
use chrono::Utc;
use denokv_proto::DatabaseMetadata;
use hyper::StatusCode;
use url::Url;

use super::config::shown;
use super::config::RemoteConfig;
use super::http::read_body;
use super::http::Http;
use crate::error::Error;
use crate::error::Result;

/// How long before `expiresAt` the metadata is fetched again.
const REFRESH_BEFORE: Duration = Duration::from_secs(600);
/// The shortest wait between two refreshes (a server that hands out
/// short-lived tokens must not be asked in a loop).
const REFRESH_MIN: Duration = Duration::from_secs(10);

/// One metadata exchange's answer.
pub struct Metadata {
  /// The negotiated protocol version: 2 or 3.
  pub version: u64,
  /// The database id sent on every data-path request.
  pub database_id: String,
  /// The strongly consistent data-path endpoint (no trailing slash).
  pub endpoint: Url,
  /// The token for the data path.
  token: String,
  /// When `token` stops working.
  pub expires_at: DateTime<Utc>,
}

impl Metadata {
  /// The headers of a data-path request.
  pub fn headers(&self) -> Vec<(&'static str, String)> {
    vec![
      ("authorization", format!("Bearer {}", self.token)),
      ("content-type", "application/x-protobuf".into()),
      ("x-denokv-database-id", self.database_id.clone()),
      ("x-denokv-version", self.version.to_string()),
      ("user-agent", USER_AGENT.into()),
    ]
  }

  /// The URL of a data-path method (`snapshot_read`, ...).
  pub fn method_url(&self, method: &str) -> Result<Url> {
    Url::parse(&format!("{}/{method}", self.endpoint))
      .map_err(|e| Error::Remote(format!("invalid endpoint URL: {e}")))
  }

  /// The data-path token, for callers that must keep it out of a text.
  pub fn secret(&self) -> &str {
    &self.token
  }
}

/// What kvq says it is.
pub const USER_AGENT: &str = concat!("kvq/", env!("CARGO_PKG_VERSION"));

/// Why an exchange failed.
pub enum ExchangeError {
  /// The server could not be reached, or answered 5xx: worth another try.
  Retry(String),
  /// The server said no (4xx), or its answer is unusable.
  Refused(String),
}

/// Runs one exchange.
pub async fn exchange(
  http: &Http,
  config: &RemoteConfig,
) -> std::result::Result<Metadata, ExchangeError> {
  let headers = [
    ("authorization", config.token.bearer()),
    ("content-type", "application/json".into()),
    ("user-agent", USER_AGENT.into()),
  ];
  let body = Bytes::from_static(br#"{"supportedVersions":[2,3]}"#);
  // The texts are Deno 2.9's (ext/kv/remote.rs), after its "Could not
  // open Deno KV database: " (added by the caller).
  let at = shown(&config.url);
  let response = http.post(&config.url, &headers, body).await.map_err(|e| {
    ExchangeError::Retry(format!(
      "failed to connect to '{at}': error sending request for url ({at}): {}",
      e.0
    ))
  })?;
  let status = response.status;
  let base = response.url.clone();
  let body = read_body(response.body).await.map_err(|e| {
    ExchangeError::Retry(format!(
      "failed to read the metadata response from '{at}': {}",
      e.0
    ))
  })?;
  let text = String::from_utf8_lossy(&body);
  // As Deno: only an exact 200 carries metadata.
  if status != StatusCode::OK {
    let text = text.trim();
    let detail = match text.is_empty() {
      true => String::new(),
      false => format!(": {}", text.chars().take(512).collect::<String>()),
    };
    let message = format!(
      "the metadata endpoint at '{at}' responded with status {status}{detail}"
    );
    return Err(if status.is_server_error() {
      ExchangeError::Retry(message)
    } else {
      ExchangeError::Refused(message)
    });
  }
  parse(&base, &text).map_err(|e| {
    ExchangeError::Refused(match e {
      Invalid::Version(version) => format!(
        "'{at}' reported unsupported KV Connect metadata version {version}"
      ),
      Invalid::NoVersion(e) => format!(
        "'{at}' is not a valid KV Connect endpoint (failed to read the metadata version: {e})"
      ),
      Invalid::Metadata(e) => format!(
        "'{at}' is not a valid KV Connect endpoint (failed to parse metadata response: {e})"
      ),
    })
  })
}

/// Why an answer is not usable metadata.
enum Invalid {
  /// No numeric `version` field.
  NoVersion(String),
  /// A version kvq does not speak.
  Version(u64),
  /// The rest of the document.
  Metadata(String),
}

fn parse(base: &Url, body: &str) -> std::result::Result<Metadata, Invalid> {
  // The version alone first, as Deno and denokv do: a document of another
  // version has another shape, and must be reported as that version.
  let value: serde_json::Value = serde_json::from_str(body)
    .map_err(|e| Invalid::NoVersion(e.to_string()))?;
  let version =
    value
      .get("version")
      .and_then(|v| v.as_u64())
      .ok_or_else(|| {
        Invalid::NoVersion("no numeric 'version' field".to_string())
      })?;
  if version != 2 && version != 3 {
    return Err(Invalid::Version(version));
  }
  let metadata: DatabaseMetadata =
    serde_json::from_str(body).map_err(|e| Invalid::Metadata(e.to_string()))?;
  let mut strong = None;
  for endpoint in &metadata.endpoints {
    let url = Url::options()
      .base_url(Some(base))
      .parse(&endpoint.url)
      .map_err(|e| Invalid::Metadata(format!("invalid endpoint URL: {e}")))?;
    if endpoint.url.ends_with('/') {
      return Err(Invalid::Metadata(format!(
        "endpoint URL must not end with '/': {url}"
      )));
    }
    match &*endpoint.consistency {
      "strong" => strong = strong.or(Some(url)),
      "eventual" => {}
      other => {
        return Err(Invalid::Metadata(format!(
          "unsupported consistency level: {other}"
        )))
      }
    }
  }
  let endpoint = strong.ok_or_else(|| {
    Invalid::Metadata("no strong consistency endpoint".to_string())
  })?;
  Ok(Metadata {
    version,
    database_id: metadata.database_id.to_string(),
    endpoint,
    token: metadata.token.into_owned(),
    expires_at: metadata.expires_at,
  })
}

/// The current metadata, shared by every call; replaced by the refresh.
pub type Current = Arc<RwLock<Arc<Metadata>>>;

/// How long to wait before refreshing `metadata`.
pub fn refresh_in(metadata: &Metadata) -> Duration {
  let left = metadata
    .expires_at
    .signed_duration_since(Utc::now())
    .to_std()
    .unwrap_or_default();
  left.saturating_sub(REFRESH_BEFORE).max(REFRESH_MIN)
}

/// Keeps `current` fresh until the client is dropped (the task is aborted
/// then): refreshes before expiry; on failure keeps the old metadata and
/// tries again with backoff.
pub async fn refresh_task(http: Http, config: RemoteConfig, current: Current) {
  let mut wait = refresh_in(&read(&current));
  let mut failures = 0u32;
  loop {
    tokio::time::sleep(wait).await;
    match exchange(&http, &config).await {
      Ok(fresh) => {
        failures = 0;
        wait = refresh_in(&fresh);
        *current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
      }
      Err(_) => {
        failures = (failures + 1).min(6);
        wait = Duration::from_secs(5 << failures).min(REFRESH_BEFORE / 2);
      }
    }
  }
}

/// The metadata in `current` now.
pub fn read(current: &Current) -> Arc<Metadata> {
  current.read().unwrap_or_else(|p| p.into_inner()).clone()
}

#[cfg(test)]
mod tests {
  use super::*;

  fn base() -> Url {
    Url::parse("http://127.0.0.1:4512/").expect("url")
  }

  #[test]
  fn parses_the_denokv_answer() {
    let body = r#"{"version":3,"databaseId":"00000000-0000-0000-0000-000000000000",
      "endpoints":[{"url":"/v2","consistency":"strong"}],"token":"t",
      "expiresAt":"2030-01-01T00:00:00Z"}"#;
    let Ok(m) = parse(&base(), body) else {
      panic!("does not parse")
    };
    assert_eq!(m.version, 3);
    assert_eq!(m.endpoint.as_str(), "http://127.0.0.1:4512/v2");
    let url = m.method_url("watch").expect("url");
    assert_eq!(url.as_str(), "http://127.0.0.1:4512/v2/watch");
  }

  #[test]
  fn refuses_other_versions() {
    let e = parse(&base(), r#"{"version":4}"#).err().expect("refused");
    assert!(matches!(e, Invalid::Version(4)));
  }
}
