//! What a `postgres://` URL (and `openKv`'s options) ask for: the server,
//! kvq's own settings, and TLS.
//!
//! The URL is libpq's: `postgres://user:password@host:port/db?k=v&...`,
//! `postgresql://` too, a Unix socket as `host=/dir` or a percent-encoded
//! path in the host. kvq takes its own keys out of the query before
//! tokio-postgres reads the rest: `schema`, `poolSize`, and libpq's TLS
//! keys that tokio-postgres does not know (`sslrootcert`, and the
//! `verify-ca` / `verify-full` values of `sslmode`).
//!
//! No message built here or from a connection error ever holds the
//! password: errors name the host, port, database and user instead.

use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::HandshakeSignatureValid;
use rustls::client::danger::ServerCertVerified;
use rustls::client::danger::ServerCertVerifier;
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::ServerName;
use rustls::pki_types::UnixTime;
use rustls::CertificateError;
use rustls::ClientConfig;
use rustls::DigitallySignedStruct;
use rustls::RootCertStore;
use rustls::SignatureScheme;
use tokio_postgres::config::Host;
use tokio_postgres_rustls::MakeRustlsConnect;

use crate::error::Error;
use crate::error::Result;

/// The schema kvq's tables live in when none is asked for.
pub const DEFAULT_SCHEMA: &str = "kvq";
/// Connections in a store's pool when none is asked for. The engine runs
/// one transaction at a time; the others serve reads and recycling.
pub const DEFAULT_POOL_SIZE: usize = 4;
/// The most connections `poolSize` may ask for.
const MAX_POOL_SIZE: usize = 64;
/// How long connecting may take when the URL does not say
/// (`connect_timeout`): an unreachable host fails, it does not hang.
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest schema name: the LISTEN channel is `kvq:<schema>`, and a
/// Postgres identifier holds at most 63 bytes.
const MAX_SCHEMA_LEN: usize = 59;

/// libpq's `sslmode` values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SslMode {
  /// Plain TCP only.
  Disable,
  /// TLS if the server offers it, without checking its certificate
  /// (libpq's `allow` and `prefer`; the default).
  Prefer,
  /// TLS always; the certificate checked only when a CA file is given.
  Require,
  /// TLS, the certificate chain checked against the CA.
  VerifyCa,
  /// TLS, the chain and the host name checked.
  VerifyFull,
}

/// Everything a Postgres store is opened with.
pub struct PgConfig {
  /// The connection settings tokio-postgres uses.
  pub pg: tokio_postgres::Config,
  /// The schema holding this store's tables.
  pub schema: String,
  /// The most connections the pool opens.
  pub pool_size: usize,
  /// TLS as asked.
  pub ssl_mode: SslMode,
  /// A PEM file of CA certificates (`sslrootcert`); `None` with a verifying
  /// mode means the system's trust store.
  pub ssl_root_cert: Option<String>,
  /// Where the store lives, for messages: host, port, database, user;
  /// never the password.
  pub place: String,
  /// The password, to scrub from any text a failure carries.
  secret: Option<String>,
}

/// Whether `path` names a Postgres server rather than a file.
pub fn is_postgres_url(path: &str) -> bool {
  let lower = path.get(..13).unwrap_or(path).to_ascii_lowercase();
  lower.starts_with("postgres://") || lower.starts_with("postgresql://")
}

impl PgConfig {
  /// Reads a URL and `openKv`'s options (`schema` and `poolSize` there win
  /// over the URL's).
  pub fn parse(url: &str, options: &serde_json::Value) -> Result<PgConfig> {
    let secret = password_of(url);
    let scrub = |text: String| scrub_secret(text, secret.as_deref());
    let (base, query) = match url.split_once('?') {
      Some((b, q)) => (b, q),
      None => (url, ""),
    };
    let mut kept = Vec::new();
    let mut schema = None;
    let mut pool_size = None;
    let mut ssl_mode = None;
    let mut ssl_root_cert = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
      let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
      let decoded = percent_decode(value);
      match key {
        "schema" => schema = Some(decoded),
        "poolSize" | "pool_size" => pool_size = Some(decoded),
        "sslrootcert" => ssl_root_cert = Some(decoded),
        "sslmode" => ssl_mode = Some(decoded),
        _ => kept.push(pair),
      }
    }
    let ssl_mode = match ssl_mode.as_deref() {
      None | Some("prefer") | Some("allow") => SslMode::Prefer,
      Some("disable") => SslMode::Disable,
      Some("require") => SslMode::Require,
      Some("verify-ca") => SslMode::VerifyCa,
      Some("verify-full") => SslMode::VerifyFull,
      Some(other) => {
        return Err(Error::InvalidOption(format!(
          "openKv: sslmode must be disable, allow, prefer, require, verify-ca or verify-full: received \"{other}\""
        )))
      }
    };
    // tokio-postgres knows disable, prefer and require; kvq's verifier
    // does the rest.
    let tp_mode = match ssl_mode {
      SslMode::Disable => "disable",
      SslMode::Prefer => "prefer",
      _ => "require",
    };
    kept.push(match tp_mode {
      "disable" => "sslmode=disable",
      "prefer" => "sslmode=prefer",
      _ => "sslmode=require",
    });
    let rebuilt = format!("{base}?{}", kept.join("&"));
    let mut pg: tokio_postgres::Config = rebuilt.parse().map_err(|e| {
      Error::InvalidOption(scrub(format!(
        "openKv: not a valid Postgres URL ({e}): {}",
        redact_url(url)
      )))
    })?;
    if pg.get_hosts().is_empty() {
      return Err(Error::InvalidOption(format!(
        "openKv: the Postgres URL names no host: {}",
        redact_url(url)
      )));
    }
    if pg.get_connect_timeout().is_none() {
      pg.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    if pg.get_application_name().is_none() {
      pg.application_name("kvq");
    }
    if let Some(s) = options.get("schema").and_then(|v| v.as_str()) {
      schema = Some(s.to_string());
    }
    if let Some(n) = options.get("poolSize").filter(|v| !v.is_null()) {
      pool_size = Some(n.to_string());
    }
    let schema = schema.unwrap_or_else(|| DEFAULT_SCHEMA.to_string());
    check_schema(&schema)?;
    let pool_size = match pool_size {
      None => DEFAULT_POOL_SIZE,
      Some(text) => text
        .parse::<f64>()
        .ok()
        .filter(|n| n.fract() == 0.0 && (1.0..=MAX_POOL_SIZE as f64).contains(n))
        .map(|n| n as usize)
        .ok_or_else(|| {
          Error::InvalidOption(format!(
            "openKv: poolSize must be a whole number from 1 to {MAX_POOL_SIZE}: received {text}"
          ))
        })?,
    };
    let place = describe_place(&pg);
    Ok(PgConfig {
      pg,
      schema,
      pool_size,
      ssl_mode,
      ssl_root_cert,
      place,
      secret,
    })
  }

  /// Removes the password from a message, whatever produced it.
  pub fn scrub(&self, text: String) -> String {
    scrub_secret(text, self.secret.as_deref())
  }

  /// The TLS connector for this store's sslmode.
  pub fn tls(&self) -> Result<MakeRustlsConnect> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
      .with_safe_default_protocol_versions()
      .map_err(|e| Error::Internal(format!("TLS setup: {e}")))?;
    let verify = match self.ssl_mode {
      SslMode::Disable | SslMode::Prefer => None,
      // libpq: require with a CA file behaves as verify-ca.
      SslMode::Require => self.ssl_root_cert.as_ref().map(|_| false),
      SslMode::VerifyCa => Some(false),
      SslMode::VerifyFull => Some(true),
    };
    let config = match verify {
      None => builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth(),
      Some(check_name) => {
        let roots = Arc::new(self.roots()?);
        let webpki =
          WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| Error::Internal(format!("TLS setup: {e}")))?;
        builder
          .dangerous()
          .with_custom_certificate_verifier(Arc::new(ChainVerifier {
            inner: webpki,
            check_name,
          }))
          .with_no_client_auth()
      }
    };
    Ok(MakeRustlsConnect::new(config))
  }

  fn roots(&self) -> Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match self.ssl_root_cert.as_deref() {
      Some(path) if path != "system" => {
        let certs = CertificateDer::pem_file_iter(path)
          .and_then(|it| it.collect::<std::result::Result<Vec<_>, _>>())
          .map_err(|e| {
            Error::OpenFailed(format!(
              "cannot read the CA file (sslrootcert) {path}: {e}"
            ))
          })?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
          return Err(Error::OpenFailed(format!(
            "the CA file (sslrootcert) {path} holds no certificate"
          )));
        }
      }
      _ => {
        let found = rustls_native_certs::load_native_certs();
        roots.add_parsable_certificates(found.certs);
        if roots.is_empty() {
          return Err(Error::OpenFailed(
            "no CA certificates found in the system's trust store: give sslrootcert=<file>".into(),
          ));
        }
      }
    }
    Ok(roots)
  }
}

/// A schema name kvq accepts: letters, digits and `_`, not starting with a
/// digit, at most [`MAX_SCHEMA_LEN`] bytes, not one of Postgres's own.
fn check_schema(schema: &str) -> Result<()> {
  let ok = !schema.is_empty()
    && schema.len() <= MAX_SCHEMA_LEN
    && schema
      .chars()
      .all(|c| c.is_ascii_alphanumeric() || c == '_')
    && !schema.starts_with(|c: char| c.is_ascii_digit())
    && !schema.to_ascii_lowercase().starts_with("pg_")
    && schema != "information_schema";
  if ok {
    return Ok(());
  }
  Err(Error::InvalidOption(format!(
    "openKv: schema must be 1 to {MAX_SCHEMA_LEN} letters, digits or _, not starting with a digit or pg_: received \"{schema}\""
  )))
}

/// `host:port, database "db", user "u"` for messages.
fn describe_place(pg: &tokio_postgres::Config) -> String {
  let ports = pg.get_ports();
  let hosts: Vec<String> = pg
    .get_hosts()
    .iter()
    .enumerate()
    .map(|(i, h)| {
      let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
      match h {
        Host::Tcp(name) => format!("{name}:{port}"),
        #[cfg(unix)]
        Host::Unix(dir) => format!("{}/.s.PGSQL.{port}", dir.display()),
      }
    })
    .collect();
  let user = pg.get_user().unwrap_or("(none)");
  let db = pg.get_dbname().unwrap_or(user);
  format!("{}, database \"{db}\", user \"{user}\"", hosts.join(","))
}

/// The URL with its password replaced by `***`.
pub fn redact_url(url: &str) -> String {
  let Some(scheme_end) = url.find("://") else {
    return url.to_string();
  };
  let rest = &url[scheme_end + 3..];
  let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
  let authority = &rest[..authority_end];
  let Some(at) = authority.rfind('@') else {
    return url.to_string();
  };
  let userinfo = &authority[..at];
  let Some(colon) = userinfo.find(':') else {
    return url.to_string();
  };
  format!(
    "{}{}:***{}",
    &url[..scheme_end + 3],
    &userinfo[..colon],
    &rest[at..]
  )
}

fn password_of(url: &str) -> Option<String> {
  let rest = &url[url.find("://")? + 3..];
  let authority = &rest[..rest.find(['/', '?']).unwrap_or(rest.len())];
  let userinfo = &authority[..authority.rfind('@')?];
  let (_, password) = userinfo.split_once(':')?;
  Some(password.to_string()).filter(|p| !p.is_empty())
}

fn scrub_secret(text: String, secret: Option<&str>) -> String {
  let Some(secret) = secret else {
    return text;
  };
  let decoded = percent_decode(secret);
  let mut out = text;
  for s in [secret, decoded.as_str()] {
    // Very short passwords would mangle ordinary words; they are never
    // echoed by the client or the server anyway.
    if s.len() >= 3 {
      out = out.replace(s, "***");
    }
  }
  out
}

fn percent_decode(s: &str) -> String {
  let bytes = s.as_bytes();
  let mut out = Vec::with_capacity(bytes.len());
  let mut i = 0;
  while i < bytes.len() {
    let hex = bytes
      .get(i + 1..i + 3)
      .and_then(|h| std::str::from_utf8(h).ok())
      .and_then(|h| u8::from_str_radix(h, 16).ok());
    match (bytes[i], hex) {
      (b'%', Some(b)) => {
        out.push(b);
        i += 3;
      }
      (b, _) => {
        out.push(b);
        i += 1;
      }
    }
  }
  String::from_utf8_lossy(&out).into_owned()
}

/// libpq's `prefer` and `require` without a CA: encrypted, not
/// authenticated. Signatures are still checked, so the session is bound to
/// the certificate the server sent.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
  fn verify_server_cert(
    &self,
    _end_entity: &CertificateDer<'_>,
    _intermediates: &[CertificateDer<'_>],
    _server_name: &ServerName<'_>,
    _ocsp: &[u8],
    _now: UnixTime,
  ) -> std::result::Result<ServerCertVerified, rustls::Error> {
    Ok(ServerCertVerified::assertion())
  }

  fn verify_tls12_signature(
    &self,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
  ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls12_signature(
      message,
      cert,
      dss,
      &self.0.signature_verification_algorithms,
    )
  }

  fn verify_tls13_signature(
    &self,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
  ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
    rustls::crypto::verify_tls13_signature(
      message,
      cert,
      dss,
      &self.0.signature_verification_algorithms,
    )
  }

  fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
    self.0.signature_verification_algorithms.supported_schemes()
  }
}

/// `verify-ca` (the chain only) and `verify-full` (the chain and the name).
#[derive(Debug)]
struct ChainVerifier {
  inner: Arc<WebPkiServerVerifier>,
  check_name: bool,
}

impl ServerCertVerifier for ChainVerifier {
  fn verify_server_cert(
    &self,
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    server_name: &ServerName<'_>,
    ocsp: &[u8],
    now: UnixTime,
  ) -> std::result::Result<ServerCertVerified, rustls::Error> {
    let verified = self.inner.verify_server_cert(
      end_entity,
      intermediates,
      server_name,
      ocsp,
      now,
    );
    match verified {
      Err(rustls::Error::InvalidCertificate(
        CertificateError::NotValidForName
        | CertificateError::NotValidForNameContext { .. },
      )) if !self.check_name => Ok(ServerCertVerified::assertion()),
      other => other,
    }
  }

  fn verify_tls12_signature(
    &self,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
  ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
    self.inner.verify_tls12_signature(message, cert, dss)
  }

  fn verify_tls13_signature(
    &self,
    message: &[u8],
    cert: &CertificateDer<'_>,
    dss: &DigitallySignedStruct,
  ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
    self.inner.verify_tls13_signature(message, cert, dss)
  }

  fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
    self.inner.supported_verify_schemes()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn parse(url: &str) -> Result<PgConfig> {
    PgConfig::parse(url, &serde_json::Value::Null)
  }

  #[test]
  fn urls_are_recognised() {
    assert!(is_postgres_url("postgres://h/db"));
    assert!(is_postgres_url("PostgreSQL://h/db"));
    assert!(!is_postgres_url("postgres.sqlite3"));
    assert!(!is_postgres_url("http://h"));
  }

  #[test]
  fn kvq_keys_leave_the_url() -> Result<()> {
    let c = parse(
      "postgres://u:secret@127.0.0.1:5433/app?schema=jobs&poolSize=2&sslmode=verify-full&sslrootcert=%2Fca.pem&application_name=x",
    )?;
    assert_eq!(c.schema, "jobs");
    assert_eq!(c.pool_size, 2);
    assert_eq!(c.ssl_mode, SslMode::VerifyFull);
    assert_eq!(c.ssl_root_cert.as_deref(), Some("/ca.pem"));
    assert_eq!(c.pg.get_dbname(), Some("app"));
    assert_eq!(c.pg.get_application_name(), Some("x"));
    assert_eq!(c.place, "127.0.0.1:5433, database \"app\", user \"u\"");
    Ok(())
  }

  #[test]
  fn options_win_over_the_url() -> Result<()> {
    let options = serde_json::json!({"schema": "b", "poolSize": 7});
    let c = PgConfig::parse("postgres://u@h/db?schema=a&poolSize=2", &options)?;
    assert_eq!((c.schema.as_str(), c.pool_size), ("b", 7));
    Ok(())
  }

  #[test]
  fn bad_values_are_refused_without_the_password() {
    for url in [
      "postgres://u:hunter22@h/db?schema=1x",
      "postgres://u:hunter22@h/db?schema=a-b",
      "postgres://u:hunter22@h/db?poolSize=0",
      "postgres://u:hunter22@h/db?poolSize=2.5",
      "postgres://u:hunter22@h/db?sslmode=sometimes",
      "postgres://u:hunter22@h:notaport/db",
      "postgres://u:hunter22@h/db?nonsense=1",
    ] {
      match parse(url) {
        Ok(_) => panic!("{url} was accepted"),
        Err(e) => {
          let text = e.to_string();
          assert!(!text.contains("hunter22"), "{text}");
        }
      }
    }
  }

  #[test]
  fn passwords_are_redacted() {
    assert_eq!(
      redact_url("postgres://u:p%40ss@h:1/db?x=1"),
      "postgres://u:***@h:1/db?x=1"
    );
    assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
    assert_eq!(
      scrub_secret("login p@ss failed".into(), Some("p%40ss")),
      "login *** failed"
    );
  }
}
