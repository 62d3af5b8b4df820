//! The HTTP client: POSTs with a body, over plain TCP or TLS (rustls with
//! ring and the system's roots), connections kept alive and reused.
//!
//! Nothing here retries or interprets a status: [`super::call`] does.

use std::time::Duration;

use bytes::Bytes;
use http::StatusCode;
use http_body_util::BodyExt;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use url::Url;

use crate::error::Error;
use crate::error::Result;

/// How long a TCP connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How many redirects a metadata request follows (as `fetch` would).
const MAX_REDIRECTS: usize = 5;

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;

/// A connection pool. Cheap to clone.
#[derive(Clone)]
pub struct Http {
  client: Client<Connector, Full<Bytes>>,
}

/// A response whose body has not been read yet.
pub struct Response {
  /// The URL that answered, after redirects.
  pub url: Url,
  /// Its status.
  pub status: StatusCode,
  /// Its body.
  pub body: Incoming,
}

/// Why a request got no response: the connection failed or dropped.
#[derive(Debug)]
pub struct Dropped(pub String);

impl Http {
  /// A client; must be called inside the runtime that will drive it.
  pub fn new() -> Result<Self> {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(CONNECT_TIMEOUT));
    http.set_nodelay(true);
    let provider = rustls::crypto::ring::default_provider();
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
      .with_provider_and_native_roots(std::sync::Arc::new(provider))
      .map_err(|e| Error::OpenFailed(format!("KV Connect TLS setup: {e}")))?
      .https_or_http()
      .enable_http1()
      .wrap_connector(http);
    let client = Client::builder(TokioExecutor::new())
      .pool_idle_timeout(Duration::from_secs(30))
      .build(tls);
    Ok(Http { client })
  }

  /// POSTs `body` to `url` with `headers`, following redirects.
  pub async fn post(
    &self,
    url: &Url,
    headers: &[(&'static str, String)],
    body: Bytes,
  ) -> std::result::Result<Response, Dropped> {
    let mut url = url.clone();
    for _ in 0..=MAX_REDIRECTS {
      let mut request = http::Request::post(url.as_str());
      for (name, value) in headers {
        request = request.header(*name, value.as_str());
      }
      let request = request
        .body(Full::new(body.clone()))
        .map_err(|e| Dropped(e.to_string()))?;
      let response = self
        .client
        .request(request)
        .await
        .map_err(|e| Dropped(describe(&e)))?;
      let status = response.status();
      if status.is_redirection() {
        let next = response
          .headers()
          .get(http::header::LOCATION)
          .and_then(|l| l.to_str().ok())
          .and_then(|l| url.join(l).ok());
        if let Some(next) = next {
          url = next;
          continue;
        }
      }
      return Ok(Response {
        url,
        status,
        body: response.into_body(),
      });
    }
    Err(Dropped("too many redirects".into()))
  }
}

/// The whole body of a response.
pub async fn read_body(body: Incoming) -> std::result::Result<Bytes, Dropped> {
  body
    .collect()
    .await
    .map(|b| b.to_bytes())
    .map_err(|e| Dropped(e.to_string()))
}

/// An error and its causes on one line ("client error (Connect): tcp
/// connect error: Connection refused").
fn describe(error: &dyn std::error::Error) -> String {
  let mut text = error.to_string();
  let mut source = error.source();
  while let Some(cause) = source {
    text.push_str(": ");
    text.push_str(&cause.to_string());
    source = cause.source();
  }
  text
}
