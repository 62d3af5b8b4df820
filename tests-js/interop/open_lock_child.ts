/**
 * Child of open_lock_test.ts, on Node, Bun or Deno: opens FILE with kvq
 * while another process holds its write lock, with a 10 ms interval timer
 * running on this (the opening) thread, and reports what `openKv` did and
 * the longest gap between two ticks: the event loop must keep running
 * however long the open waits.
 *
 * @module
 */

import process from "node:process";
import { describe, printResult } from "./checks.ts";
import { loadKvq } from "./kvq_entry.ts";

const [file] = process.argv.slice(2);
const { openKv } = await loadKvq();

let last = performance.now();
let maxGap = 0;
let ticks = 0;
const timer = setInterval(() => {
  const now = performance.now();
  maxGap = Math.max(maxGap, now - last);
  last = now;
  ticks++;
}, 10);

const started = performance.now();
let outcome: Record<string, unknown>;
try {
  const kv = await openKv(file);
  outcome = { opened: true };
  kv.close();
} catch (e) {
  outcome = {
    opened: false,
    error: describe(e),
    code: (e as { code?: unknown }).code,
  };
}
const waitedMs = performance.now() - started;
// The gap up to the answer, counting the wait since the last tick.
maxGap = Math.max(maxGap, performance.now() - last);
clearInterval(timer);
printResult({ ...outcome, waitedMs, maxGapMs: maxGap, ticks });
