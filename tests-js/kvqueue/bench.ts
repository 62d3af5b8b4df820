/**
 * Measures the queue on any Deno.Kv (`withQueues`) against Deno's own
 * queue, on real Deno's file KV (not part of the test suite; kvq's own
 * queue and named queues are measured in bench/, scenarios (3) and (12)):
 *
 *     node_modules/.bin/deno run -A --unstable-kv tests-js/kvqueue/bench.ts [n] [scenario...]
 *
 * The scenarios (all of them by default, n default 5000):
 *
 * - `drain-1`: `withQueues(Deno.openKv(file))`, a backlog of n messages
 *   (default 5000) drained by one listener (concurrency 100, no-op handler).
 * - `drain-4`: the same backlog drained by 4 worker processes (Deno.openKv,
 *   withQueues, concurrency 100 each), timed from the moment all are told
 *   to start.
 * - `drain-native`: Deno's own queue on a file, one process.
 * - `latency` / `latency-native`: one message at a time, from before the
 *   enqueue to the handler's start, in one process; p50 and p99 over 300
 *   messages, 2 ms apart.
 *
 * Prints one JSON line per scenario.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { withQueues } from "../../jsr/src/kvqueue/mod.ts";
import { Worker } from "./processes.ts";

const args = process.argv.slice(2);
const n = Number(args.find((a) => /^\d+$/.test(a)) ?? 5000);
const flag = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
// Queue options for the wrapper: --checks=N (checksPerAtomic; default:
// the queue's own), --poll=MS (pollIntervalMs, default 50).
const checks = flag("checks");
const queue = {
  pollIntervalMs: Number(flag("poll") ?? 50),
  ...(checks === undefined ? {} : { checksPerAtomic: Number(checks) }),
};
const wanted = args.filter((a) => !/^\d+$/.test(a) && !a.startsWith("--"));
const all = ["drain-1", "drain-4", "drain-native", "latency", "latency-native"];
const scenarios = wanted.length > 0 ? wanted : all;
const dir = mkdtempSync(join(tmpdir(), "kvqueue-bench-"));
let files = 0;
const file = () => join(dir, `bench-${++files}.sqlite3`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function report(scenario: string, fields: Record<string, number>): void {
  const rounded = Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [k, Math.round(v * 100) / 100]),
  );
  console.log(JSON.stringify({ scenario, n, ...rounded }));
}

const SAMPLES = 300;

async function backlog(kv: Deno.Kv | ReturnType<typeof withQueues>) {
  // 2 mutations per message in the wrapper: 250 per atomic stays below
  // 1000; Deno's own queue takes one per message.
  for (let i = 0; i < n; i += 250) {
    const op = kv.atomic();
    for (let j = i; j < Math.min(n, i + 250); j++) op.enqueue(j);
    if (!(await op.commit()).ok) throw new Error("enqueue failed");
  }
}

async function drainOne(native: boolean): Promise<void> {
  const raw = await Deno.openKv(file());
  const kv = native ? raw : withQueues(raw, queue);
  await backlog(kv);
  let handled = 0;
  let finished!: () => void;
  const done = new Promise<void>((r) => finished = r);
  const start = performance.now();
  kv.listenQueue(() => {
    if (++handled === n) finished();
  });
  await done;
  const ms = performance.now() - start;
  report(native ? "drain-native" : "drain-1", { ms, rate: n / ms * 1000 });
  kv.close();
}

async function drainFour(): Promise<void> {
  const path = file();
  const kv = withQueues(await Deno.openKv(path), queue);
  await backlog(kv);
  kv.close();
  const workers = [0, 1, 2, 3].map(() =>
    new Worker("deno-native", path, "consume", {
      queue,
      waitForGo: true,
    })
  );
  await Promise.all(workers.map((w) => w.line("ready")));
  const start = performance.now();
  for (const w of workers) w.send("go");
  const total = () => workers.reduce((s, w) => s + w.got.length, 0);
  await workers[0].until(() => total() >= n, 600_000, "the drain");
  const ms = performance.now() - start;
  const distinct = new Set(workers.flatMap((w) => w.got)).size;
  await Promise.all(workers.map((w) => w.finish()));
  const errors = workers.map((w) => w.stderr).join("").split("\n").filter(
    (l) => l.startsWith("kvq queue:"),
  );
  report("drain-4", {
    ms,
    rate: n / ms * 1000,
    duplicates: total() - distinct,
    errorLines: errors.length,
    ...Object.fromEntries(workers.map((w, i) => [`w${i}`, w.got.length])),
  });
}

async function latency(native: boolean): Promise<void> {
  const raw = await Deno.openKv(file());
  const kv = native ? raw : withQueues(raw, queue);
  let got!: () => void;
  kv.listenQueue(() => got());
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const arrived = new Promise<void>((r) => got = r);
    const t0 = performance.now();
    await kv.enqueue(i);
    await arrived;
    samples.push(performance.now() - t0);
    await sleep(2);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) =>
    samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  report(native ? "latency-native" : "latency", {
    n: SAMPLES,
    p50: at(0.5),
    p99: at(0.99),
    max: samples[samples.length - 1],
  });
  kv.close();
}

try {
  for (const s of scenarios) {
    if (s === "drain-1") await drainOne(false);
    else if (s === "drain-native") await drainOne(true);
    else if (s === "drain-4") await drainFour();
    else if (s === "latency") await latency(false);
    else if (s === "latency-native") await latency(true);
    else throw new Error(`unknown scenario ${s}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(0);
