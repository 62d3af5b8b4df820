#!/usr/bin/env bash
# Installs what the benchmark needs beyond the root node_modules (where
# BullMQ, @deno/kv and ioredis, the Redis client BullMQ 6 leaves to its user,
# are pinned): redis-server, Debian's package, for the BullMQ rows.
# Safe to run repeatedly: skipped when redis-server is already there.
set -euo pipefail

if ! command -v redis-server >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi
  echo "bench/setup.sh: installing redis-server (Debian package)" >&2
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq redis-server >/dev/null
fi
redis-server --version >&2

