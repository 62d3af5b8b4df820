/**
 * Measures the deepest nested value Deno 2.9.6's own KV reader reads back,
 * per shape (the numbers behind jsr/src/v8/depth.ts): the bytes are put
 * straight into a Deno KV file's row, then read with Deno.openKv. Not a
 * test; prints one JSON line.
 *
 *     node_modules/.bin/deno run -A --unstable-kv tests-js/v8/deno_depth_probe.ts
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { DEEP_KINDS, deepBytes, type DeepKind } from "./deep.ts";

const dir = Deno.makeTempDirSync();
const path = `${dir}/depth.sqlite3`;
try {
  const setup = await Deno.openKv(path);
  await setup.set(["x"], 0);
  setup.close();
  const db = new DatabaseSync(path);
  const kv = await Deno.openKv(path);
  const reads = async (kind: DeepKind, depth: number) => {
    db.prepare("UPDATE kv SET v = ?, v_encoding = 1").run(
      deepBytes(kind, depth),
    );
    try {
      await kv.get(["x"]);
      return true;
    } catch {
      return false;
    }
  };
  const out: Record<string, unknown> = { runtime: `deno ${Deno.version.deno}` };
  for (const kind of DEEP_KINDS) {
    let lo = 1;
    let hi = 60_000;
    while (lo + 1 < hi) {
      const mid = (lo + hi) >> 1;
      if (await reads(kind, mid)) lo = mid;
      else hi = mid;
    }
    out[kind] = { denoRead: lo };
  }
  console.log(JSON.stringify(out));
  kv.close();
  db.close();
} finally {
  Deno.removeSync(dir, { recursive: true });
}
