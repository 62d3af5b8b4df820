/**
 * Prints one table of every conformance case on every target, from the
 * results files the runners wrote into KVQ_RESULTS_DIR, then the closing
 * totals line. Exits 1 if any target failed a case or a target is missing.
 *
 *     node tests-js/report.ts <dir> <target>...
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import {
  type Outcome,
  printTable,
  type TargetResults,
} from "./harness/runner.ts";

const [dir, ...expected] = process.argv.slice(2);
const results: TargetResults[] = [];
const missing: string[] = [];
for (const name of expected) {
  try {
    results.push(JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")));
  } catch {
    missing.push(name);
  }
}
const names = new Set(results.flatMap((r) => Object.keys(r.outcomes)));
const table = new Map<string, Outcome[]>();
for (const name of names) {
  table.set(name, results.map((r) => r.outcomes[name] ?? "skip"));
}
console.log("conformance: every case on every target");
printTable(
  results.map((r) => ({ name: r.target })),
  table,
  (l) => console.log(l),
);
let passed = 0;
let failed = 0;
for (const row of table.values()) {
  for (const o of row) {
    if (o === "pass") passed++;
    if (o === "fail") failed++;
  }
}
for (const name of missing) {
  console.log(`target ${name}: no results (runner crashed?)`);
}
console.log(`conformance: ${passed} passed, ${failed} failed`);
process.exit(failed > 0 || missing.length > 0 ? 1 : 0);
