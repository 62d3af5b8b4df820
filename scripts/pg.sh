#!/usr/bin/env bash
# A private Postgres for kvq's tests: initdb into a temporary folder, a
# server on 127.0.0.1 (free port) and on a Unix socket in that folder, a
# database and a password user for kvq, stopped and removed on exit.
#
#   scripts/pg.sh CMD [ARGS...]   runs CMD with the server up, then stops it;
#                                 exits with CMD's status
#   scripts/pg.sh                 prints the URL and keeps the server up
#                                 until interrupted (Ctrl-C)
#
# CMD sees:
#   KVQ_POSTGRES_URL        postgres://kvq:PASSWORD@127.0.0.1:PORT/kvq
#   KVQ_POSTGRES_ADMIN_URL  the same server as its superuser (for tests that
#                           kill kvq's sessions with pg_terminate_backend)
#   KVQ_POSTGRES_CTL        a script: `$KVQ_POSTGRES_CTL stop|start|restart`
#                           (tests that take the server down mid-run)
#   KVQ_POSTGRES_CA         the CA of the server's TLS certificate (for
#                           localhost and 127.0.0.1), when openssl exists
#
# Postgres 15 from /usr/lib/postgresql/15/bin (else any version there);
# where none is installed and we are root, Debian's `postgresql` package is
# installed first (initdb runs with --no-sync: a test cluster need not
# survive a power cut; the server itself keeps fsync on). initdb refuses to
# run as root, so as root the server runs as the `postgres` user. Nothing
# outside the temporary folder is touched.
#
# KVQ_PG_NO_FSYNC=1 starts the server with fsync and synchronous_commit
# off: suites that check semantics, not durability, then spend no time
# waiting on the disk (each case creates a schema, a dozen catalog
# commits). A crash or an immediate stop of the server may then lose its
# last commits, so only suites that never stop the server use it; the
# fault tests, the restarts and the benchmarks keep fsync on.
set -euo pipefail

log() { echo "pg.sh: $*" >&2; }
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"

find_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
      echo "$d"
      return 0
    fi
  done
  return 1
}

PGBIN=$(find_bin || true)
if [ -z "$PGBIN" ]; then
  if [ "$(id -u)" -ne 0 ]; then
    log "no Postgres found under /usr/lib/postgresql; install Debian's postgresql package"
    exit 2
  fi
  log "no Postgres found: installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >&2
  PGBIN=$(find_bin)
fi

# As root, everything the server touches belongs to `postgres`.
if [ "$(id -u)" -eq 0 ]; then
  as_pg() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_pg() { "$@"; }
  OWNER=$(id -un)
fi

DIR=$(mktemp -d "${TMPDIR:-/tmp}/kvq-pg.XXXXXX")
chmod 700 "$DIR"
chown "$OWNER" "$DIR"
DATA=$DIR/data

started=$(date +%s%N)
ADMIN_PASS=$(random_secret)
KVQ_PASS=$(random_secret)
echo "$ADMIN_PASS" >"$DIR/pwfile"
chown "$OWNER" "$DIR/pwfile"
chmod 600 "$DIR/pwfile"
as_pg "$PGBIN/initdb" -D "$DATA" -U postgres --pwfile="$DIR/pwfile" \
  --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --no-instructions --no-sync \
  >"$DIR/initdb.log" 2>&1 || {
  cat "$DIR/initdb.log" >&2
  rm -rf "$DIR"
  exit 1
}
rm -f "$DIR/pwfile"
initdb_done=$(date +%s%N)

stop_server() {
  if [ -f "$DATA/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null 2>&1 || true
  fi
}
cleanup() {
  stop_server
  rm -rf "$DIR"
}
on_exit cleanup

# TLS with a throwaway CA (when openssl is there), so the tests can check
# sslmode=require / verify-ca / verify-full; plain TCP still works too.
SSL_OPTS=
if command -v openssl >/dev/null; then
  (
    cd "$DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kvq test CA" \
      -keyout ca.key -out ca.crt -addext basicConstraints=critical,CA:TRUE \
      -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" \
      -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
      -days 2 -extfile server.ext -out server.crt 2>/dev/null
    chmod 600 server.key
    chown "$OWNER" server.key server.crt
  ) && SSL_OPTS="-c ssl=on -c ssl_cert_file=$DIR/server.crt -c ssl_key_file=$DIR/server.key"
fi

PORT=
for _ in 1 2 3 4 5; do
  PORT=$(free_port)
  # Loopback and a socket in the folder only; enough connections for the
  # conformance suite (each store: a small pool and one LISTEN session).
  OPTS="-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c max_connections=300"
  OPTS="$OPTS -c shared_buffers=128MB -c log_min_messages=warning $SSL_OPTS"
  if [ "${KVQ_PG_NO_FSYNC:-}" = 1 ]; then
    OPTS="$OPTS -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  echo "$OPTS" >"$DIR/options"
  if as_pg "$PGBIN/pg_ctl" -D "$DATA" -o "$OPTS" -l "$DIR/server.log" -w \
    -t 30 start >/dev/null 2>&1; then
    break
  fi
  PORT=
done
if [ -z "$PORT" ]; then
  log "the server did not start:"
  tail -20 "$DIR/server.log" >&2 || true
  exit 1
fi
server_up=$(date +%s%N)

PSQL=$PGBIN/psql
[ -x "$PSQL" ] || PSQL=$(command -v psql)
psql_admin() {
  as_pg "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" \
    -U postgres -d postgres "$@"
}
psql_admin -c "create role kvq login password '$KVQ_PASS'" \
  -c "create database kvq owner kvq" >/dev/null
ready=$(date +%s%N)

# The control script tests use to take the server down and up again.
cat >"$DIR/ctl" <<EOF
#!/usr/bin/env bash
# Generated by scripts/pg.sh: stop|start|restart the private Postgres.
set -euo pipefail
case "\${1:-}" in
  stop) args=(-m fast -w stop) ;;
  start) args=(-o "$(cat "$DIR/options")" -l "$DIR/server.log" -w -t 30 start) ;;
  restart) args=(-m fast -o "$(cat "$DIR/options")" -l "$DIR/server.log" -w -t 30 restart) ;;
  *) echo "usage: \$0 stop|start|restart" >&2; exit 2 ;;
esac
if [ "\$(id -u)" -eq 0 ]; then
  exec runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DATA" "\${args[@]}" >/dev/null
fi
exec "$PGBIN/pg_ctl" -D "$DATA" "\${args[@]}" >/dev/null
EOF
chmod 755 "$DIR/ctl"

ms() { echo $((($2 - $1) / 1000000)); }
log "Postgres $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT and $DIR$([ "${KVQ_PG_NO_FSYNC:-}" = 1 ] && echo ", fsync off")" \
  "(initdb $(ms "$started" "$initdb_done") ms, start $(ms "$initdb_done" "$server_up") ms," \
  "ready $(ms "$started" "$ready") ms in all)"

export KVQ_POSTGRES_URL="postgres://kvq:$KVQ_PASS@127.0.0.1:$PORT/kvq"
export KVQ_POSTGRES_ADMIN_URL="postgres://postgres:$ADMIN_PASS@127.0.0.1:$PORT/kvq"
export KVQ_POSTGRES_CTL="$DIR/ctl"
if [ -n "$SSL_OPTS" ]; then
  export KVQ_POSTGRES_CA="$DIR/ca.crt"
fi

[ $# -eq 0 ] && log "admin: $KVQ_POSTGRES_ADMIN_URL"
run_or_serve "$KVQ_POSTGRES_URL" "$@"
