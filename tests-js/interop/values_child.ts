/**
 * Child of values_test.ts, run on Node or Bun with kvq's npm package (or on
 * Deno with the jsr one): `write FILE` puts the value matrix in FILE,
 * `read FILE` checks the matrix another runtime wrote there.
 *
 * @module
 */

import process from "node:process";
import { Checks, describe } from "./checks.ts";
import { loadKvq } from "./kvq_entry.ts";
import { readMatrix, writeMatrix } from "./value_matrix.ts";

const [mode, file] = process.argv.slice(2);
const checks = new Checks();
try {
  const { openKv, KvU64 } = await loadKvq();
  const kv = await openKv(file);
  if (mode === "write") {
    await checks.run("kvq wrote the matrix", () => writeMatrix(kv, KvU64));
  } else {
    for (const [name, diff] of await readMatrix(kv, KvU64)) {
      checks.same(name, diff);
    }
  }
  kv.close();
} catch (e) {
  checks.check(`${mode} ${file}`, false, describe(e));
}
checks.finish();
