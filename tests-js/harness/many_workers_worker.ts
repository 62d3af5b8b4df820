/**
 * One worker of the many-workers test (many_workers.ts): a process that
 * shares nothing with the others but its store. It handles queue
 * messages, writing each message's id to `handled.txt` in its own working
 * folder before the handler returns, and exits when the key ["stop"] is
 * set. Runs on Node (the npm package), Bun (the same) and Deno (the JSR
 * package, FFI):
 *
 *     many_workers_worker.ts URL NAME [OPTIONS_JSON]
 *
 * @module
 */

import { openSync, writeSync } from "node:fs";
import process from "node:process";

// deno-lint-ignore no-explicit-any
const g = globalThis as any;
const [url, name, options] = process.argv.slice(2);
if (!url || !name) {
  console.error("usage: many_workers_worker.ts URL NAME [OPTIONS_JSON]");
  process.exit(2);
}
const entry = g.Deno
  ? new URL("../../jsr/mod.ts", import.meta.url).href
  : new URL("../../npm/dist/index.js", import.meta.url).href;
const { openKv } = await import(entry);

const kv = await openKv(url, JSON.parse(options ?? '{"leaseMs":2000}'));
const log = openSync("handled.txt", "a");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const stop = kv.watch([["stop"]]).getReader();
const listening = kv.listenQueue(async (m: { i: number }) => {
  // Recorded before the handler returns: a kill after this line and
  // before the acknowledgement commits is a duplicate, never a loss.
  writeSync(log, `${m.i}\n`);
  await sleep(4);
}, { concurrency: 16 });
console.log(`${name} ready`);
for (;;) {
  const { value, done } = await stop.read();
  if (done || value[0].value !== null) break;
}
await stop.cancel();
kv.close();
await listening;
console.log(`${name} stopped`);
process.exit(0);
