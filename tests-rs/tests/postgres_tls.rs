//! TLS to Postgres through rustls, with libpq's sslmode values: the
//! session is encrypted when asked, the certificate checked against the CA
//! file (sslrootcert) for verify-ca and verify-full, the host name too for
//! verify-full, and a failure says why.

#[path = "postgres_common/mod.rs"]
mod pg;

fn ca() -> Option<String> {
  let ca = std::env::var("KVQ_POSTGRES_CA")
    .ok()
    .filter(|c| !c.is_empty());
  if ca.is_none() {
    let _ = std::io::Write::write_all(
      &mut std::io::stderr(),
      b"\n!!! postgres_tls: NOT RUN: the server has no TLS (KVQ_POSTGRES_CA is unset)\n",
    );
  }
  ca
}

/// Whether kvq's own sessions on the server are encrypted, as
/// pg_stat_ssl sees them.
fn kvq_sessions_use_tls() -> bool {
  pg::admin(
    "select coalesce(bool_and(s.ssl), false) from pg_stat_ssl s \
     join pg_stat_activity a using (pid) where a.application_name = 'kvq'",
  ) == "t"
}

#[tokio::test]
async fn each_sslmode_connects_as_libpq_would() {
  let Some(url) = pg::url("each_sslmode_connects_as_libpq_would") else {
    return;
  };
  let Some(ca) = ca() else { return };
  let url = pg::fresh(&url);
  for (mode, tls) in [
    ("disable", false),
    ("prefer", true),
    ("require", true),
    ("verify-ca", true),
    ("verify-full", true),
  ] {
    let mut u = pg::with_param(&url, "sslmode", mode);
    if mode.starts_with("verify") {
      u = pg::with_param(&u, "sslrootcert", &ca);
    }
    let store = pg::open(&u, 30_000);
    let k = kvq_tests::key(&["tls", mode]);
    let w = kvq_tests::write(vec![kvq_tests::set(
      k.clone(),
      kvq_core::KvValue::U64(1),
    )]);
    kvq_tests::commit(&store, w).await;
    assert!(kvq_tests::get(&store, &k).await.is_some());
    assert_eq!(kvq_sessions_use_tls(), tls, "sslmode={mode}");
    store.close();
  }
}

#[test]
fn a_certificate_that_does_not_check_out_is_refused_clearly() {
  let Some(url) =
    pg::url("a_certificate_that_does_not_check_out_is_refused_clearly")
  else {
    return;
  };
  let Some(ca) = ca() else { return };
  let url = pg::fresh(&url);
  // The certificate names localhost and 127.0.0.1, not kvq.invalid (the
  // name checked; the address connected to is still 127.0.0.1):
  // verify-full refuses, verify-ca accepts.
  let other_host = url.replace("@127.0.0.1:", "@kvq.invalid:");
  let other_host = pg::with_param(&other_host, "hostaddr", "127.0.0.1");
  let full = pg::with_param(&other_host, "sslmode", "verify-full");
  let full = pg::with_param(&full, "sslrootcert", &ca);
  let e = pg::try_open(&full, 30_000).err().map(|e| e.to_string());
  let text = e.unwrap_or_default();
  assert!(text.contains("kvq.invalid"), "{text}");
  assert!(text.to_lowercase().contains("certificate"), "{text}");
  let ca_only = full.replace("verify-full", "verify-ca");
  pg::open(&ca_only, 30_000).close();
  // A CA that did not sign the server's certificate: refused.
  let dir =
    std::env::temp_dir().join(format!("kvq-tls-{}", std::process::id()));
  std::fs::create_dir_all(&dir).expect("temp dir");
  let wrong = dir.join("wrong.crt");
  let made = std::process::Command::new("openssl")
    .args([
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
    ])
    .args(["-subj", "/CN=another CA", "-keyout"])
    .arg(dir.join("wrong.key"))
    .arg("-out")
    .arg(&wrong)
    .output()
    .expect("openssl");
  assert!(made.status.success());
  let bad = pg::with_param(&url, "sslmode", "verify-ca");
  let bad = pg::with_param(&bad, "sslrootcert", &wrong.to_string_lossy());
  let text = pg::try_open(&bad, 30_000)
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
  assert!(text.to_lowercase().contains("certificate"), "{text}");
  // A CA file that is not there.
  let missing = pg::with_param(&url, "sslmode", "verify-full");
  let missing = pg::with_param(&missing, "sslrootcert", "/nonexistent/ca.pem");
  let text = pg::try_open(&missing, 30_000)
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
  assert!(text.contains("/nonexistent/ca.pem"), "{text}");
  let _ = std::fs::remove_dir_all(dir);
}
