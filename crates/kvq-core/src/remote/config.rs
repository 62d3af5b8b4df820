//! Where a KV Connect database is and how to authenticate: the URL given
//! to `openKv` and the access token, from kvq's `accessToken` option or,
//! as Deno reads it, the `DENO_KV_ACCESS_TOKEN` environment variable.
//!
//! The token is a secret: [`AccessToken`] prints as `***` and no error
//! built here or elsewhere in the client repeats it.

use std::fmt;

use url::Url;

use crate::error::Error;
use crate::error::Result;

/// The environment variable Deno reads the access token from.
pub const TOKEN_VARIABLE: &str = "DENO_KV_ACCESS_TOKEN";

/// Deno 2.9.6's message when there is no token.
const MISSING_TOKEN: &str = "Missing DENO_KV_ACCESS_TOKEN environment \
  variable. Please set it to your access token from https://console.deno.com";

/// A bearer token that never shows in `Debug` or `Display` output.
#[derive(Clone)]
pub struct AccessToken(String);

impl AccessToken {
  /// The `authorization` header value: `Bearer <token>`.
  pub fn bearer(&self) -> String {
    format!("Bearer {}", self.0)
  }

  /// The token itself, for callers that must check an error text for it.
  pub fn secret(&self) -> &str {
    &self.0
  }
}

impl From<String> for AccessToken {
  fn from(token: String) -> Self {
    AccessToken(token)
  }
}

impl fmt::Debug for AccessToken {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    f.write_str("AccessToken(***)")
  }
}

/// A KV Connect database to open.
#[derive(Clone, Debug)]
pub struct RemoteConfig {
  /// The metadata endpoint: the URL given to `openKv`, as given.
  pub url: Url,
  /// The user's access token, sent only to the metadata endpoint.
  pub token: AccessToken,
}

impl RemoteConfig {
  /// Reads the URL and the token. `options` is `openKv`'s options JSON;
  /// its `accessToken` (a non-empty string) wins over the environment.
  pub fn parse(url: &str, options: &serde_json::Value) -> Result<Self> {
    let url = Url::parse(url).map_err(|e| {
      Error::InvalidOption(format!("openKv: invalid KV Connect URL: {e}"))
    })?;
    let token = match options.get("accessToken") {
      None | Some(serde_json::Value::Null) => std::env::var(TOKEN_VARIABLE)
        .ok()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::OpenFailed(MISSING_TOKEN.into()))?,
      Some(serde_json::Value::String(t)) if !t.is_empty() => t.clone(),
      Some(_) => {
        return Err(Error::InvalidOption(
          "openKv: accessToken must be a non-empty string".into(),
        ))
      }
    };
    Ok(RemoteConfig {
      url,
      token: token.into(),
    })
  }
}

/// `url` without a password, for messages.
pub fn shown(url: &Url) -> String {
  let mut url = url.clone();
  if url.password().is_some() {
    let _ = url.set_password(Some("***"));
  }
  url.to_string()
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_option_wins_and_never_prints() {
    let options = serde_json::json!({ "accessToken": "s3cret" });
    let config = RemoteConfig::parse("http://127.0.0.1:1/", &options);
    let config = config.expect("parses");
    assert_eq!(config.token.bearer(), "Bearer s3cret");
    assert!(!format!("{config:?}").contains("s3cret"));
  }

  #[test]
  fn a_bad_token_option_is_refused() {
    let options = serde_json::json!({ "accessToken": 12 });
    let err = RemoteConfig::parse("http://127.0.0.1:1/", &options);
    assert!(matches!(err, Err(Error::InvalidOption(_))));
  }

  #[test]
  fn passwords_are_hidden() {
    let url = Url::parse("https://u:pw@example.com/").expect("url");
    assert_eq!(shown(&url), "https://u:***@example.com/");
  }
}
