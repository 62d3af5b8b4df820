/**
 * A worker process of the queue-on-KV suite: opens a store of the given
 * flavour, wraps it with `withQueues`, and consumes or enqueues.
 *
 *     <runtime> tests-js/kvqueue/worker.ts <flavour> <path> consume <json>
 *     <runtime> tests-js/kvqueue/worker.ts <flavour> <path> enqueue <json>
 *
 * consume: `{ queue?, concurrency?, behaviour?: "ok" | "hang" | "fail",
 * sleepMs?, waitForGo? }`. Prints `ready` once listening (or, with
 * waitForGo, once the store is open; it then listens on the stdin line
 * `go`), `got <value as JSON>` as each handler starts, and `done` after
 * stdin closes (the listener is aborted and the store closed).
 *
 * enqueue: `{ queue?, count, perAtomic?, options? }`: enqueues the
 * strings `m-0` .. `m-<count-1>`, prints `enqueued <count>`.
 *
 * @module
 */

import process from "node:process";
import { type Flavour, load } from "./flavours.ts";

const [flavour, path, mode, json] = process.argv.slice(2);
const args = JSON.parse(json ?? "{}");
const opened = await load(flavour as Flavour);
const kv = await opened.open(path, args.queue);
const say = (line: string) => process.stdout.write(line + "\n");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (mode === "enqueue") {
  const perAtomic = args.perAtomic ?? 100;
  for (let i = 0; i < args.count; i += perAtomic) {
    const op = kv.atomic();
    for (let j = i; j < Math.min(args.count, i + perAtomic); j++) {
      op.enqueue(`m-${j}`, args.options);
    }
    const res = await op.commit();
    if (!res.ok) throw new Error("enqueue commit failed");
  }
  say(`enqueued ${args.count}`);
  kv.close();
} else if (mode === "consume") {
  const stop = new AbortController();
  const never = new Promise<void>(() => {});
  const listen = () =>
    kv.listenQueue(async (value: unknown) => {
      say(`got ${JSON.stringify(value)}`);
      if (args.sleepMs) await sleep(args.sleepMs);
      if (args.behaviour === "hang") await never;
      if (args.behaviour === "fail") throw new Error("failing on purpose");
    }, { concurrency: args.concurrency ?? 100, signal: stop.signal });
  let done: Promise<void> | undefined;
  if (!args.waitForGo) done = listen();
  say("ready");
  process.stdin.setEncoding("utf8");
  for await (const chunk of process.stdin) {
    if (String(chunk).includes("go") && done === undefined) done = listen();
  }
  stop.abort();
  await done;
  kv.close();
  say("done");
  process.exit(0);
} else {
  throw new Error(`unknown mode ${mode}`);
}
