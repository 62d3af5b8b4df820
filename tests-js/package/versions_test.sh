#!/usr/bin/env bash
# Every package of a kvq release carries one version, and every name that
# ties them together agrees: jsr/deno.json, the npm packages, their
# optional dependencies, the kvq-deno@VERSION that jsr/ffi/loader.ts
# imports, and the platforms each side lists.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node --input-type=module -e '
import { readFileSync, readdirSync } from "node:fs";
const json = (f) => JSON.parse(readFileSync(f, "utf8"));
const failures = [];
const same = (what, got, want) => {
  const [g, w] = [JSON.stringify(got), JSON.stringify(want)];
  if (g !== w) failures.push(`${what}: ${g}, expected ${w}`);
};

const version = json("jsr/deno.json").version;
const kvq = json("npm/package.json");
same("npm/package.json version", kvq.version, version);
const dirs = readdirSync("npm/npm").sort();
for (const dir of dirs) {
  same(`npm/npm/${dir} version`, json(`npm/npm/${dir}/package.json`).version, version);
}

// kvq: one optional dependency per napi target, each with its directory.
const nodePlatforms = dirs.filter((d) => !d.startsWith("deno"));
const napiNames = {
  "x86_64-unknown-linux-gnu": "linux-x64-gnu",
  "aarch64-unknown-linux-gnu": "linux-arm64-gnu",
  "x86_64-unknown-linux-musl": "linux-x64-musl",
  "aarch64-unknown-linux-musl": "linux-arm64-musl",
  "x86_64-pc-windows-gnu": "win32-x64-gnu",
};
same("napi.targets", kvq.napi.targets.map((t) => napiNames[t] ?? t).sort(), nodePlatforms);
same("kvq optionalDependencies", kvq.optionalDependencies,
  Object.fromEntries(nodePlatforms.map((p) => [`kvq-${p}`, version])));

// kvq-deno: one optional dependency per deno-* directory.
const denoPlatforms = dirs.filter((d) => d.startsWith("deno-")).map((d) => d.slice(5));
same("kvq-deno optionalDependencies", json("npm/npm/deno/package.json").optionalDependencies,
  Object.fromEntries(denoPlatforms.map((p) => [`kvq-deno-${p}`, version])));
const { platforms } = await import("./npm/npm/deno/index.js");
same("kvq-deno platforms", [...platforms].sort(), denoPlatforms);

// The loader: the package it imports, and the platforms it names.
const loader = readFileSync("jsr/ffi/loader.ts", "utf8");
const imports = [...loader.matchAll(/npm:kvq-deno@([^"]+)"/g)].map((m) => m[1]);
same("versions of npm:kvq-deno in jsr/ffi/loader.ts", [...new Set(imports)], [version]);
same("PACKAGE in jsr/ffi/loader.ts", loader.match(/const PACKAGE = "([^"]+)"/)?.[1], `kvq-deno@${version}`);
const shipped = loader.match(/const SHIPPED = (\[[^\]]*\])/)?.[1];
same("SHIPPED in jsr/ffi/loader.ts", shipped ? JSON.parse(shipped).sort() : null, denoPlatforms);

// npm/src/native.ts: the platforms its error names.
const native = readFileSync("npm/src/native.ts", "utf8");
const addons = native.match(/const SHIPPED = (\[[^\]]*\])/)?.[1];
same("SHIPPED in npm/src/native.ts", addons ? JSON.parse(addons.replace(/,\s*\]/, "]")).sort() : null, nodePlatforms);

for (const f of failures) console.log(`FAIL ${f}`);
console.log(`versions: ${failures.length ? 0 : 1} passed, ${failures.length ? 1 : 0} failed`);
process.exit(failures.length ? 1 : 0);
'
