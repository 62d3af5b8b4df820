// kvq demo: a real queue workload through one SQLite file, on Node.
//
// The producer (this process) enqueues 10,000 jobs: most plain, some
// delayed, some that fail once and succeed on retry, some that always fail
// and end up as dead letters. A worker (a second process, sharing only the
// file) handles them with kvq's listenQueue. A live line shows progress;
// a summary prints counts and timings.
//
// Run: make demo   (or: node demo/queue_demo.mjs after make build)

import { fork } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openKv } from "../npm/dist/index.js";

const JOBS = 10_000;
const DELAYED = 1_000; // due 0.5 to 2 s after enqueue
const FLAKY = 400; // fail on the first attempt, succeed on the retry
const POISON = 200; // always fail: retried twice, then dead-lettered

/** The kind of job `i`, spread evenly through the stream. */
function kindOf(i) {
  if (i % 50 === 7) return "poison";
  if (i % 25 === 3) return "flaky";
  if (i % 10 === 5) return "delayed";
  return "plain";
}

async function worker(path) {
  const kv = await openKv(path);
  const controller = new AbortController();
  process.on("message", (m) => m === "stop" && controller.abort());
  await kv.listenQueue(async (job) => {
    if (job.kind === "poison") throw new Error(`job ${job.i} is poison`);
    if (job.kind === "flaky") {
      const seen = await kv.get(["seen", job.i]);
      if (seen.value === null) {
        await kv.set(["seen", job.i], true);
        throw new Error(`job ${job.i} failed once`);
      }
    }
    await kv.atomic().sum(["done", job.kind], 1n).commit();
  }, { concurrency: 64, signal: controller.signal });
  kv.close();
  // The IPC channel would keep this process alive.
  process.disconnect();
}

function counts(entries) {
  const out = {};
  for (const e of entries) out[e.key[1]] = Number(e.value?.value ?? 0n);
  return out;
}

async function producer() {
  const dir = mkdtempSync(join(tmpdir(), "kvq-demo-"));
  const path = join(dir, "demo.sqlite3");
  const kv = await openKv(path);
  // Silence the worker's "Exception in queue handler" logs: failures are
  // the point of the poison and flaky jobs.
  const child = fork(new URL(import.meta.url).pathname, ["worker", path], {
    stdio: ["ignore", "ignore", "ignore", "ipc"],
  });

  const expected = { plain: 0, delayed: 0, flaky: 0, poison: 0 };
  const t0 = performance.now();
  const pending = [];
  for (let i = 0; i < JOBS; i++) {
    const kind = kindOf(i);
    expected[kind]++;
    const job = { i, kind, body: "x".repeat(100) };
    const options = kind === "delayed"
      ? { delay: 500 + (i % 1500) }
      : kind === "poison"
      ? { backoffSchedule: [20, 40], keysIfUndelivered: [["dead", i]] }
      : kind === "flaky"
      ? { backoffSchedule: [50] }
      : {};
    pending.push(kv.enqueue(job, options));
    if (pending.length === 100) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  const enqueueMs = performance.now() - t0;

  const done = () =>
    kv.getMany([
      ["done", "plain"],
      ["done", "delayed"],
      ["done", "flaky"],
    ]);
  let finished = false;
  let last = { plain: 0, delayed: 0, flaky: 0 };
  let dead = 0;
  while (!finished) {
    await new Promise((r) => setTimeout(r, 100));
    last = counts(await done());
    dead = 0;
    for await (const _ of kv.list({ prefix: ["dead"] })) dead++;
    const handled = last.plain + last.delayed + last.flaky;
    const seconds = (performance.now() - t0) / 1000;
    process.stdout.write(
      `\r  handled ${String(handled).padStart(5)}/${JOBS - POISON}` +
        `  dead letters ${String(dead).padStart(3)}/${POISON}` +
        `  ${seconds.toFixed(1)} s   `,
    );
    finished = handled === JOBS - POISON && dead === POISON;
    if (seconds > 120) throw new Error("demo did not finish in 120 s");
  }
  const totalMs = performance.now() - t0;
  child.send("stop");
  await new Promise((r) => child.once("exit", r));
  kv.close();
  rmSync(dir, { recursive: true, force: true });

  console.log("\n");
  console.log("  summary");
  console.log(`  jobs enqueued       ${JOBS} in ${enqueueMs.toFixed(0)} ms`);
  console.log(`  plain               ${last.plain}/${expected.plain}`);
  console.log(`  delayed (0.5-2 s)   ${last.delayed}/${expected.delayed}`);
  console.log(`  flaky (1 retry)     ${last.flaky}/${expected.flaky}`);
  console.log(`  poison (dead)       ${dead}/${expected.poison}`);
  console.log(`  total time          ${(totalMs / 1000).toFixed(2)} s`);
  const rate = (JOBS / (enqueueMs / 1000)).toFixed(0);
  console.log(`  enqueue rate        ${rate} jobs/s, 100 at a time`);
  if (
    expected.delayed !== DELAYED || expected.flaky !== FLAKY ||
    expected.poison !== POISON
  ) {
    throw new Error("demo job mix is off");
  }
}

if (process.argv[2] === "worker") {
  await worker(process.argv[3]);
} else {
  await producer();
}
