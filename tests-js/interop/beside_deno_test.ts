/**
 * Real Deno handles a backlog while a kvq listener shares the file.
 *
 * Deno leases a message until its due time + 5 s and never renews the
 * lease, so a message that waited in a backlog is "lapsed" the moment Deno
 * claims it. kvq must not take such a claim back while Deno may still run
 * it (nor count it as a failed attempt): Deno's own cleanup, every 60 s,
 * is what takes its claims back. Each message has no retries left
 * (`backoffSchedule: []`) and a dead-letter key, so a claim taken back
 * shows as a dead letter; a message handled twice shows in the counts.
 *
 * Run: deno run -A --unstable-kv tests-js/interop/beside_deno_test.ts
 *
 * @module
 */

import { join } from "node:path";
import { Checks, resultOf } from "./checks.ts";
import { missingBuilds, runChild, tempDir } from "./processes.ts";

const MESSAGES = 40;
/** Deno's claims are due time + 5 s: the backlog must be older than that. */
const BACKLOG_AGE_MS = 5_500;
/** How long each of Deno's handlers runs: long past its claim's deadline. */
const HANDLER_MS = 2_500;
const KVQ_LEASE_MS = 200;
const KVQ_LISTENS_MS = 2_000;

const checks = new Checks();
const missing = missingBuilds(["node"]);
const temp = tempDir("kvq-beside-deno-");
if (missing.length > 0) {
  checks.check("kvq is built", false, `missing ${missing.join(", ")}`);
} else {
  const file = join(temp.dir, "backlog.sqlite3");
  let kv = await Deno.openKv(file);
  const op = kv.atomic();
  for (let i = 0; i < MESSAGES; i++) {
    op.enqueue(i, { backoffSchedule: [], keysIfUndelivered: [["dead", i]] });
  }
  checks.check("deno enqueued the backlog", (await op.commit()).ok);
  kv.close();
  await new Promise((r) => setTimeout(r, BACKLOG_AGE_MS));

  // Deno claims the whole backlog at once (it has no concurrency cap) and
  // runs every handler for longer than the claim's deadline allows.
  kv = await Deno.openKv(file);
  const handled = new Map<number, number>();
  let finished = 0;
  const listening = kv.listenQueue(async (i: unknown) => {
    handled.set(i as number, (handled.get(i as number) ?? 0) + 1);
    await new Promise((r) => setTimeout(r, HANDLER_MS));
    finished++;
  });
  const claimed = Date.now();
  while (handled.size < MESSAGES && Date.now() - claimed < 3_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  checks.check(
    "deno claimed the backlog",
    handled.size === MESSAGES,
    `${handled.size} of ${MESSAGES}`,
  );
  // Meanwhile a kvq listener on Node opens the file and sweeps every 50 ms.
  const child = await runChild(
    "node",
    "./beside_deno_child.ts",
    [file, String(KVQ_LEASE_MS), String(KVQ_LISTENS_MS)],
    30_000,
  );
  checks.absorb("node (kvq): ", child);
  const delivered = (resultOf(child) as { delivered?: unknown[] } | undefined)
    ?.delivered;
  checks.check(
    "kvq took none of deno's claims",
    delivered?.length === 0,
    `kvq was given ${JSON.stringify(delivered)}`,
  );
  while (finished < handled.size && Date.now() - claimed < 10_000) {
    await new Promise((r) => setTimeout(r, 20));
  }
  const twice = [...handled].filter(([, n]) => n > 1).map(([i]) => i);
  checks.check("no message reached deno twice", twice.length === 0, `${twice}`);
  const dead = [];
  for await (const e of kv.list({ prefix: ["dead"] })) dead.push(e.key[1]);
  checks.check("no dead letters", dead.length === 0, `dead: ${dead}`);
  kv.close();
  await listening;
}
temp.dispose();
checks.finish();
