/**
 * A worker process of the named-queue cases: opens a store of the given
 * flavour and consumes or enqueues on a named queue.
 *
 *     <runtime> tests-js/kvqueue/queues.worker.ts <flavour> <path> consume <json>
 *     <runtime> tests-js/kvqueue/queues.worker.ts <flavour> <path> enqueue <json>
 *
 * consume: `{ name, options?, concurrency?, sleepMs?, waitForGo? }`. Prints
 * `ready`, then per delivery `start <json>` and `end <json>` (value, id,
 * attempt, group, seq, at); a value with `fail: true` throws, one with
 * `hang: true` never settles (for SIGKILL cases). Stops when
 * stdin closes, prints `done`.
 *
 * enqueue: `{ name, options?, items: [{ value, options }], waitForGo? }`:
 * after `go` (or at once), enqueues all items concurrently and prints
 * `result <json array of { id, duplicate }>`.
 *
 * @module
 */

import process from "node:process";
import { type Flavour, load } from "./flavours.ts";

const [flavour, path, mode, json] = process.argv.slice(2);
const args = JSON.parse(json ?? "{}");
const opened = await load(flavour as Flavour);
const kv = await opened.openRaw(path);
const q = opened.api.queue(kv, args.name, args.options);
const say = (line: string) => process.stdout.write(line + "\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

process.stdin.setEncoding("utf8");
const lines = process.stdin[Symbol.asyncIterator]();
async function waitForGo(): Promise<void> {
  for (;;) {
    const r = await lines.next();
    if (r.done || String(r.value).includes("go")) return;
  }
}

if (mode === "enqueue") {
  say("ready");
  if (args.waitForGo) await waitForGo();
  const results = await Promise.all(
    (args.items as { value: unknown; options?: unknown }[]).map(async (it) => {
      const r = await q.enqueue(it.value, it.options);
      return { id: r.id, duplicate: r.duplicate };
    }),
  );
  say(`result ${JSON.stringify(results)}`);
  q.close();
  kv.close();
  process.exit(0);
} else if (mode === "consume") {
  const stop = new AbortController();
  const start = () =>
    q.listen(async (value: { fail?: boolean; hang?: boolean }, info: {
      id: string;
      attempt: number;
      group: string | null;
      seq: number | null;
    }) => {
      const rec = {
        value,
        id: info.id,
        attempt: info.attempt,
        group: info.group,
        seq: info.seq,
      };
      say(`start ${JSON.stringify({ ...rec, at: Date.now() })}`);
      if (args.sleepMs) await sleep(args.sleepMs);
      if (value?.hang) await new Promise(() => {});
      say(`end ${JSON.stringify({ ...rec, at: Date.now() })}`);
      if (value?.fail) throw new Error("failing on purpose");
    }, { concurrency: args.concurrency ?? 10, signal: stop.signal });
  let done: Promise<void> | undefined;
  if (!args.waitForGo) done = start();
  say("ready");
  if (args.waitForGo) {
    await waitForGo();
    done = start();
  }
  for (;;) {
    const r = await lines.next();
    if (r.done) break;
  }
  stop.abort();
  await done;
  q.close();
  kv.close();
  say("done");
  process.exit(0);
} else {
  throw new Error(`unknown mode ${mode}`);
}
