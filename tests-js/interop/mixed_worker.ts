/**
 * Child of mixed_runtimes_test.ts: a kvq queue worker (jsr under Deno, npm
 * under Bun or Node). `mixed_worker.ts DB OUT` listens on DB with
 * concurrency 50 and a 100 ms lease, appends the `i` of every message it handled to OUT (one
 * per line), and stops when its stdin closes.
 *
 * @module
 */

import { appendFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { Checks, describe, printResult } from "./checks.ts";
import { loadKvq, runtimeName } from "./kvq_entry.ts";

const CONCURRENCY = 50;
const FLUSH_EVERY_MS = 50;
// A short lease, and some handlers that outlast it three times over: only
// renewal keeps those messages from being delivered again.
const LEASE_MS = 100;
const SLOW_EVERY = 1000;
const SLOW_MS = 300;

const [file, out] = process.argv.slice(2);
const checks = new Checks();
try {
  const { openKv, packageName } = await loadKvq();
  const kv = await openKv(file, { leaseMs: LEASE_MS });
  writeFileSync(out, "");
  let pending: number[] = [];
  let handled = 0;
  // Written in batches so the parent can watch progress as it happens.
  const flush = () => {
    if (pending.length === 0) return;
    appendFileSync(out, pending.join("\n") + "\n");
    pending = [];
  };
  const timer = setInterval(flush, FLUSH_EVERY_MS);
  const stop = new AbortController();
  const listening = kv.listenQueue(async (msg: { i: number }) => {
    // A little asynchronous work, as a real handler has.
    const ms = msg.i % SLOW_EVERY === 0 ? SLOW_MS : 1;
    await new Promise((r) => setTimeout(r, ms));
    pending.push(msg.i);
    handled++;
  }, { concurrency: CONCURRENCY, signal: stop.signal });
  console.log(`ready ${runtimeName()} ${packageName}`);
  await new Promise<void>((resolve) => {
    process.stdin.on("end", resolve);
    process.stdin.on("close", resolve);
    process.stdin.resume();
  });
  stop.abort();
  await listening;
  clearInterval(timer);
  flush();
  kv.close();
  checks.check("listened until told to stop, then closed", true);
  printResult({ handled });
} catch (e) {
  checks.check("worker", false, describe(e));
}
checks.finish();
