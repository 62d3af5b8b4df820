# Shared by scripts/pg.sh and scripts/denokv.sh (sourced, not run): the
# pieces every private test server needs. Each script defines log() first.

# A random hex secret (passwords, tokens).
random_secret() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# A free port on 127.0.0.1, asked of the kernel. Another process may take
# it before the server binds: callers retry with a new one.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# on_exit FN: FN runs when the script ends, also after Ctrl-C or TERM, so
# no server outlives the script that started it.
on_exit() {
  # shellcheck disable=SC2064 # FN is fixed now, on purpose
  trap "$1" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# run_or_serve URL [CMD...]: runs CMD with the server up and exits with its
# status; with no CMD, prints URL and keeps the server up until
# interrupted.
run_or_serve() {
  local url=$1
  shift
  if [ $# -eq 0 ]; then
    echo "$url"
    log "up until interrupted"
    while true; do
      sleep 3600 &
      wait $!
    done
  fi
  set +e
  "$@"
  local status=$?
  set -e
  exit "$status"
}
