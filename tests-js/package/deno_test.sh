#!/usr/bin/env bash
# The JSR package as Deno users get it, with no checkout: `deno doc --lint`
# passes (every export documented; scripts/pack.sh already ran `deno
# publish --dry-run`), and a Deno project outside the repository, whose
# deno.json maps @kvq/kvq to the packed JSR files and whose node_modules
# holds kvq-deno installed from its packed tarball by npm (which brings
# kvq-deno-linux-x64-gnu; "nodeModulesDir": "manual"), runs the smoke test
# with only the permissions the README names: no build, no environment
# variable, no path. KVQ_LIB and setLibraryPath() still win over the
# package, and without the package the error says what to install.
#
#   tests-js/package/deno_test.sh PACK   (PACK from scripts/pack.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
pack=$(cd "$1" && pwd)
DENO=$root/node_modules/.bin/deno
export DENO_NO_UPDATE_CHECK=1 NO_COLOR=1
source tests-js/package/lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# expect_line REGEX CMD...: "ok" when CMD succeeds and a line of its output
# matches REGEX.
expect_line() {
  local want=$1 out
  shift
  if ! out=$("$@" 2>&1); then
    echo "failed: $out"
  elif echo "$out" | grep -Eq "$want"; then
    echo ok
  else
    echo "no line $want in: $out"
  fi
}

succeeds "deno doc --lint jsr/mod.ts: every export documented" \
  "$DENO" doc --lint jsr/mod.ts

# The user's project: JSR's files where the import map says, npm's
# packages in node_modules, and nothing of this repository's.
project "$work/app" x64 glibc kvq-deno
cd "$work/app"
cp -r "$pack/jsr" kvq
echo '{ "nodeModulesDir": "manual", "imports": { "@kvq/kvq": "./kvq/mod.ts" } }' >deno.json

# The README's permissions, read and write limited to the project.
run=("$DENO" run --no-lock --allow-ffi --allow-read=. --allow-write=.)
check "smoke on Deno $("$DENO" --version | head -1 | cut -d' ' -f2), library from kvq-deno-linux-x64-gnu" \
  "${run[@]}" smoke_deno.ts

# The `kvq` command from the JSR files (what jsr:@kvq/kvq/cli runs; the
# project's config, for its node_modules), on a database
# with a named queue the user's script filled.
cat >fill.ts <<'EOF'
import { openKv, queue } from "@kvq/kvq";
const kv = await openKv("cli.sqlite3");
await queue(kv, "emails").enqueue({ to: "ada" });
kv.close();
EOF
succeeds "a user's script fills a named queue" "${run[@]}" fill.ts
check "kvq queues list from the JSR files (cli.ts)" \
  expect_line '^emails +1 +0 +0 +0 +0$' "${run[@]}" --config deno.json kvq/cli.ts queues list cli.sqlite3

# Either explicit place is the one opened, the package notwithstanding.
mkdir own
cp node_modules/kvq-deno-linux-x64-gnu/libkvq_deno.so own/
cat >explicit.ts <<'EOF'
import { openKv, setLibraryPath } from "@kvq/kvq";
if (Deno.args[0]) setLibraryPath(Deno.args[0]);
try {
  (await openKv(":memory:")).close();
  console.log("opened");
} catch (e) {
  console.log((e as Error).message);
}
EOF
# expect TEXT CMD...: "ok" when CMD's output holds TEXT.
expect() {
  local want=$1 out
  shift
  out=$("$@" 2>&1) || true
  case $out in
  *"$want"*) echo ok ;;
  *) echo "expected \"$want\" in: $out" ;;
  esac
}
check "KVQ_LIB opens its file" \
  expect opened env KVQ_LIB="$PWD/own/libkvq_deno.so" "${run[@]}" --allow-env=KVQ_LIB explicit.ts
check "a wrong KVQ_LIB is an error, the package notwithstanding" \
  expect "KVQ_LIB ($PWD/none.so): Could not open" \
  env KVQ_LIB="$PWD/none.so" "${run[@]}" --allow-env=KVQ_LIB explicit.ts
check "setLibraryPath() opens its file" expect opened "${run[@]}" explicit.ts own/libkvq_deno.so

# Without the platform's package: what to install.
mv node_modules/kvq-deno-linux-x64-gnu aside
check "without kvq-deno-linux-x64-gnu: the error names the platform and the package" \
  expect "kvq: cannot load the native library for linux-x64-gnu (libkvq_deno.so). It comes in the npm package kvq-deno-linux-x64-gnu@0.1.0" \
  "${run[@]}" explicit.ts
check "... and what to install" expect '`npm install kvq-deno@0.1.0`' "${run[@]}" explicit.ts
mv aside node_modules/kvq-deno-linux-x64-gnu

# What finding and opening the library costs, in one process (the module
# graph already cached by the runs above); printed, not checked.
cat >startup.ts <<'EOF'
const t0 = performance.now();
const { openKv } = await import("@kvq/kvq");
const t1 = performance.now();
const kv = await openKv(":memory:");
const t2 = performance.now();
kv.close();
console.log(`import ${(t1 - t0).toFixed(1)} ms, first open ${(t2 - t1).toFixed(1)} ms`);
EOF
echo "     startup: $("${run[@]}" startup.ts)"

summary "deno package"
