/**
 * Values move between kvq and real Deno in both directions: kvq on Node and
 * on Bun writes the whole value matrix, real Deno (Deno.openKv) reads it;
 * real Deno writes it, kvq on Node and on Bun reads it. The raw rows show
 * the encodings (bytes, LE64) each side leaves.
 *
 * Run: deno run -A --unstable-kv tests-js/interop/values_test.ts
 *
 * @module
 */

import { join } from "node:path";
import { Checks } from "./checks.ts";
import { missingBuilds, runChild, type Runtime, tempDir } from "./processes.ts";
import { kvRows, stringKeyHex } from "./raw_rows.ts";
import { RAW_ROWS, readMatrix, writeMatrix } from "./value_matrix.ts";
import type { KvLike, KvU64Class } from "../harness/types.ts";

const RUNTIMES: Runtime[] = ["node", "bun"];
const CHILD_TIMEOUT_MS = 30_000;

const checks = new Checks();
const U64 = Deno.KvU64 as unknown as KvU64Class;
const openDeno = async (file: string) =>
  await Deno.openKv(file) as unknown as KvLike;

/** The rows the writer left must carry the encodings Deno uses. */
function checkRawRows(label: string, file: string): void {
  const rows = kvRows(file);
  for (const [name, encoding, bytes] of RAW_ROWS) {
    const row = rows.get(stringKeyHex(["x", name]));
    checks.check(
      `${label}: raw row of ${name} is encoding ${encoding}, ${bytes}`,
      row !== undefined && row[0] === encoding && row[1] === bytes,
      row ? `encoding ${row[0]}, ${row[1]}` : "no row",
    );
  }
}

const missing = missingBuilds(RUNTIMES);
const temp = tempDir("kvq-interop-values-");
if (missing.length > 0) {
  checks.check("kvq is built", false, `missing ${missing.join(", ")}`);
} else {
  for (const runtime of RUNTIMES) {
    // kvq writes, real Deno reads.
    const fromKvq = join(temp.dir, `${runtime}-wrote.sqlite3`);
    const wrote = await runChild(
      runtime,
      "./values_child.ts",
      ["write", fromKvq],
      CHILD_TIMEOUT_MS,
    );
    checks.absorb(`${runtime} (kvq) writes: `, wrote);
    if (wrote.code === 0) {
      checkRawRows(`${runtime} (kvq) wrote`, fromKvq);
      const kv = await openDeno(fromKvq);
      for (const [name, diff] of await readMatrix(kv, U64)) {
        checks.same(`${runtime} (kvq) writes, deno reads: ${name}`, diff);
      }
      kv.close();
    }

    // Real Deno writes, kvq reads.
    const fromDeno = join(temp.dir, `deno-wrote-for-${runtime}.sqlite3`);
    const kv = await openDeno(fromDeno);
    await writeMatrix(kv, U64);
    kv.close();
    checkRawRows("deno wrote", fromDeno);
    const read = await runChild(
      runtime,
      "./values_child.ts",
      ["read", fromDeno],
      CHILD_TIMEOUT_MS,
    );
    checks.absorb(`deno writes, ${runtime} (kvq) reads: `, read);
  }
}
temp.dispose();
checks.finish();
