/**
 * One file, three runtimes: a Node producer enqueues 20,000 messages while
 * a Deno worker (FFI, jsr/mod.ts) and a Bun worker (N-API, npm package)
 * consume them at once, 50 handlers each, on a 100 ms lease that some
 * handlers outlast. Every message must be handled exactly once (leases are
 * renewed, so no duplicates), and each worker must get some. Bounded: fails
 * after 120 s.
 *
 * Run: deno run -A --unstable-kv tests-js/interop/mixed_runtimes_test.ts
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Checks, resultOf } from "./checks.ts";
import {
  missingBuilds,
  type RunningChild,
  type Runtime,
  startChild,
  tempDir,
} from "./processes.ts";
import { countRows } from "./raw_rows.ts";

const MESSAGES = 20_000;
const BOUND_MS = 120_000;
const START_TIMEOUT_MS = 20_000;
// After the last message: time for a late duplicate to show up.
const SETTLE_MS = 1_000;
const WORKERS: Runtime[] = ["deno", "bun"];

const checks = new Checks();

/** The `i`s a worker's output file lists, in order. */
function handledBy(out: string): number[] {
  const text = readFileSync(out, { encoding: "utf8", flag: "a+" });
  return text.split("\n").filter((l) => l !== "").map(Number);
}

async function main(dir: string): Promise<void> {
  const db = join(dir, "mixed.sqlite3");
  const outs = WORKERS.map((w) => join(dir, `${w}.out`));
  const workers: RunningChild[] = WORKERS.map((w, n) =>
    startChild(w, "./mixed_worker.ts", [db, outs[n]])
  );
  try {
    await Promise.all(workers.map((w) => w.line("ready", START_TIMEOUT_MS)));
  } catch (e) {
    checks.check("workers started", false, String(e));
    for (const [n, w] of workers.entries()) {
      await w.closeInput();
      checks.absorb(`${WORKERS[n]} worker: `, await w.finish(5_000));
    }
    return;
  }
  const start = Date.now();
  const producer = startChild("node", "./mixed_producer.ts", [
    db,
    String(MESSAGES),
  ]);

  // Watch the workers' files until every message is in, or the bound.
  let unique = 0;
  while (Date.now() - start < BOUND_MS) {
    unique = new Set(outs.flatMap(handledBy)).size;
    // A worker that died would leave the rest unhandled: stop waiting.
    if (unique >= MESSAGES || workers.some((w) => w.exited)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const elapsed = Date.now() - start;
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const produced = await producer.finish(10_000);
  checks.absorb("node producer: ", produced);
  for (const w of workers) await w.closeInput();
  for (const [n, w] of workers.entries()) {
    checks.absorb(`${WORKERS[n]} worker: `, await w.finish(15_000));
  }

  const lists = outs.map(handledBy);
  const counts = new Map<number, number>();
  for (const i of lists.flat()) counts.set(i, (counts.get(i) ?? 0) + 1);
  const missing: number[] = [];
  for (let i = 0; i < MESSAGES && missing.length < 10; i++) {
    if (!counts.has(i)) missing.push(i);
  }
  const strays = [...counts.keys()].filter((i) =>
    !Number.isInteger(i) || i < 0 || i >= MESSAGES
  );
  const duplicates = [...counts].filter(([, n]) => n > 1);
  const enqueueMs = (resultOf(produced) as { ms?: number } | undefined)?.ms;
  console.log(
    `# ${unique} of ${MESSAGES} handled in ${elapsed} ms (enqueueing took ${enqueueMs} ms); ` +
      WORKERS.map((w, n) => `${w} ${lists[n].length}`).join(", "),
  );

  checks.check(
    `all ${MESSAGES} messages handled within ${BOUND_MS / 1000} s`,
    missing.length === 0 && elapsed < BOUND_MS,
    `${counts.size} handled after ${elapsed} ms; first missing: ${missing}`,
  );
  // Who handled the copies: both workers, or one worker twice.
  const twice = new Set(duplicates.map(([i]) => i));
  const copies = WORKERS.map((w, n) =>
    `${w} ${lists[n].filter((i) => twice.has(i)).length}`
  );
  checks.check(
    "no message handled twice",
    duplicates.length === 0,
    `${duplicates.length} duplicates, e.g. ${
      duplicates.slice(0, 5).map(([i, n]) => `${i} x${n}`)
    }; copies handled by ${copies.join(", ")}`,
  );
  checks.check(
    "no unknown message handled",
    strays.length === 0,
    `${strays.slice(0, 5)}`,
  );
  for (const [n, w] of WORKERS.entries()) {
    checks.check(
      `the ${w} worker handled some messages`,
      lists[n].length > 0,
      "it handled none",
    );
  }
  const left = countRows(db, "queue") + countRows(db, "queue_running");
  checks.check(
    "the queue tables are empty at the end",
    left === 0,
    `${left} rows`,
  );
}

const missing = missingBuilds(["node", "bun", "deno"]);
const temp = tempDir("kvq-interop-mixed-");
if (missing.length > 0) {
  checks.check("kvq is built", false, `missing ${missing.join(", ")}`);
} else {
  await main(temp.dir);
}
temp.dispose();
checks.finish();
