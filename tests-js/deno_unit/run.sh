#!/usr/bin/env bash
# Runs Deno's own KV unit tests (Deno 2.9.x: tests/unit/kv_test.ts and the
# kv_queue tests) against kvq's openKv on Deno, with every sanitizer on.
#
#   tests-js/deno_unit/run.sh DENO_CHECKOUT STD_CHECKOUT [deno test flags]
#
# DENO_CHECKOUT is a checkout of denoland/deno at the tag to compare with;
# STD_CHECKOUT a checkout of denoland/std (the assertions those tests
# import). Neither is part of this repository: the script copies the four
# test files into a temporary folder, points `Deno.openKv`, `Deno.KvU64`,
# `Deno.AtomicOperation` and `new Deno.Kv()` at kvq's JSR module, maps the
# std imports, and runs `deno test`. Not part of `make test` (no network
# there to fetch Deno's sources); the README's table comes from this run.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
deno_src=${1:?usage: run.sh DENO_CHECKOUT STD_CHECKOUT [flags]}
std=${2:?usage: run.sh DENO_CHECKOUT STD_CHECKOUT [flags]}
shift 2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=(kv_test.ts kv_queue_test.ts kv_queue_test_no_db_close.ts kv_queue_undelivered_test.ts)
for f in "${files[@]}"; do
  {
    echo "import { AtomicOperation, Kv, KvU64, openKv } from \"$root/jsr/mod.ts\";"
    sed -e 's/Deno\.openKv(/openKv(/g' \
      -e 's/new Deno\.KvU64(/new KvU64(/g' \
      -e 's/Deno\.AtomicOperation/AtomicOperation/g' \
      -e 's/new Deno\.Kv()/new Kv()/g' \
      "$deno_src/tests/unit/$f"
  } >"$work/$f"
done
cp "$deno_src/tests/unit/test_util.ts" "$work/" 2>/dev/null || true
# The import map: "@std/<package>" and each "@std/<package>/<export>" of
# the std packages, from their own deno.json files; "@test_util/std/" is
# the std checkout itself.
"$root/node_modules/.bin/deno" eval '
  const [std, out] = Deno.args;
  const imports = { "@test_util/std/": `${std}/` };
  for (const pkg of Deno.readDirSync(std)) {
    let json;
    try {
      json = JSON.parse(Deno.readTextFileSync(`${std}/${pkg.name}/deno.json`));
    } catch {
      continue;
    }
    const exp = typeof json.exports === "string" ? { ".": json.exports } : json.exports ?? {};
    for (const [name, file] of Object.entries(exp)) {
      const spec = name === "." ? `@std/${pkg.name}` : `@std/${pkg.name}/${name.slice(2)}`;
      imports[spec] = `${std}/${pkg.name}/${file.slice(2)}`;
    }
  }
  Deno.writeTextFileSync(out, JSON.stringify({ imports, lock: false }, null, 2));
' "$std" "$work/deno.json"
cd "$work"
"$root/node_modules/.bin/deno" test --no-check -A --sanitize-ops \
  --sanitize-resources "$@" "${files[@]}"
