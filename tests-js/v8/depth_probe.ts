/**
 * Measures how deep a nested value this runtime's stack lets kvq's V8 codec
 * go, per shape, with the limit (MAX_DEPTH) lifted: the numbers behind the
 * limit's choice in jsr/src/v8/depth.ts. Not a test; prints one JSON line.
 *
 *     node_modules/.bin/deno run --v8-flags=--jitless tests-js/v8/depth_probe.ts
 *     node_modules/.bin/esbuild tests-js/v8/depth_probe.ts --bundle --format=esm \
 *       --platform=node --outfile=probe.mjs && node --jitless probe.mjs
 *     BUN_JSC_useJIT=0 node_modules/.bin/bun tests-js/v8/depth_probe.ts
 *
 * Cold code uses the most stack per level, so the flags that keep code in
 * the interpreter give the lower bounds that matter. The reader of Deno
 * itself is measured by tests-js/v8/deno_depth_probe.ts.
 *
 * @module
 */

import { Reader } from "../../jsr/src/v8/reader.ts";
import { Writer } from "../../jsr/src/v8/writer.ts";
import { DEEP_KINDS, deepBytes, nest } from "./deep.ts";

/** A writer and a reader that never refuse a depth. */
class Unlimited extends Writer {
  override enter(): void {}
}
class UnlimitedReader extends Reader {
  override enter(): void {}
}

function writes(value: unknown): boolean {
  try {
    const w = new Unlimited();
    w.header();
    w.value(value);
    return true;
  } catch {
    return false;
  }
}

function reads(bytes: Uint8Array): boolean {
  try {
    const r = new UnlimitedReader(bytes);
    r.header();
    r.value();
    return true;
  } catch {
    return false;
  }
}

/** The largest depth for which `ok` holds, by bisection below `hi`. */
function deepest(ok: (depth: number) => boolean, hi = 60_000): number {
  let lo = 1;
  while (lo + 1 < hi) {
    const mid = (lo + hi) >> 1;
    if (ok(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

const host = globalThis as {
  Bun?: { version: string };
  Deno?: { version: { deno: string } };
  process?: { versions: { node: string } };
};
const runtime = host.Bun
  ? `bun ${host.Bun.version}`
  : host.Deno
  ? `deno ${host.Deno.version.deno}`
  : `node ${host.process?.versions.node}`;
const out: Record<string, unknown> = { runtime };
for (const kind of DEEP_KINDS) {
  out[kind] = {
    write: deepest((d) => writes(nest(kind, d))),
    read: deepest((d) => reads(deepBytes(kind, d))),
  };
}
console.log(JSON.stringify(out));
