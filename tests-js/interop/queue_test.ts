/**
 * Queue messages cross between real Deno and kvq on Node through one file,
 * with their options: real Deno enqueues (no listener of its own) and a kvq
 * listener on Node gets every message, retrying along the message's own
 * backoffSchedule and dead-lettering into its keysIfUndelivered, which real
 * Deno then reads; and the other way round, kvq on Node enqueues and a real
 * Deno listener does the same. Last, a message kvq enqueues after its
 * listener was stopped by an AbortSignal must be left ready for Deno.
 *
 * A real Deno listener notices another process's enqueue only by its 60 s
 * poll, unless the message is there when it starts: so kvq enqueues first
 * and Deno opens the file afterwards.
 *
 * Run: deno run -A --unstable-kv tests-js/interop/queue_test.ts
 *
 * @module
 */

import { join } from "node:path";
import { Checks, resultOf } from "./checks.ts";
import { missingBuilds, runChild, tempDir } from "./processes.ts";
import {
  consume,
  enqueueAll,
  judge,
  judgeDeadLetters,
  type Report,
} from "./queue_scenario.ts";
import { firstMessage } from "../harness/helpers.ts";
import type { KvLike } from "../harness/types.ts";

const CHILD_TIMEOUT_MS = 30_000;
const CONSUME_TIMEOUT_MS = 10_000;
const STOPPED_TIMEOUT_MS = 3_000;

const checks = new Checks();
const openDeno = async (file: string) =>
  await Deno.openKv(file) as unknown as KvLike;
const record = (prefix: string, outcomes: [string, string | null][]) => {
  for (const [name, diff] of outcomes) checks.same(`${prefix}${name}`, diff);
};

const missing = missingBuilds(["node"]);
const temp = tempDir("kvq-interop-queue-");
if (missing.length > 0) {
  checks.check("kvq is built", false, `missing ${missing.join(", ")}`);
} else {
  // Real Deno enqueues and closes; kvq on Node consumes.
  const a = join(temp.dir, "deno-enqueues.sqlite3");
  let kv = await openDeno(a);
  const enqueuedAt = await enqueueAll(kv);
  kv.close();
  const consumed = await runChild(
    "node",
    "./queue_child.ts",
    ["consume", a],
    CHILD_TIMEOUT_MS,
  );
  checks.absorb("node (kvq) consumes: ", consumed);
  const report = resultOf(consumed) as Report | undefined;
  if (report) {
    record("deno enqueues, node (kvq) handles: ", judge(report, enqueuedAt));
  }
  kv = await openDeno(a);
  record("kvq's dead letters, read by deno: ", await judgeDeadLetters(kv));
  kv.close();

  // kvq on Node enqueues; real Deno opens the file afterwards and consumes.
  const b = join(temp.dir, "kvq-enqueues.sqlite3");
  const sent = await runChild(
    "node",
    "./queue_child.ts",
    ["enqueue", b],
    CHILD_TIMEOUT_MS,
  );
  checks.absorb("node (kvq) enqueues: ", sent);
  const sentAt = (resultOf(sent) as { enqueuedAt?: number } | undefined)
    ?.enqueuedAt;
  if (sent.code === 0 && sentAt !== undefined) {
    const denoReport = await consume(await openDeno(b), CONSUME_TIMEOUT_MS);
    record("node (kvq) enqueues, deno handles: ", judge(denoReport, sentAt));
    const dead = await runChild(
      "node",
      "./queue_child.ts",
      ["dead", b],
      CHILD_TIMEOUT_MS,
    );
    checks.absorb("deno's dead letters, read by node (kvq): ", dead);
  }

  // A kvq listener stopped by its signal must not keep a later message.
  const c = join(temp.dir, "kvq-stopped-listener.sqlite3");
  const stopped = await runChild(
    "node",
    "./queue_child.ts",
    ["stop-then-enqueue", c],
    CHILD_TIMEOUT_MS,
  );
  checks.absorb("node (kvq): ", stopped);
  if (stopped.code === 0) {
    kv = await openDeno(c);
    const got = await firstMessage(
      (h) => kv.listenQueue(h),
      STOPPED_TIMEOUT_MS,
      undefined,
    );
    kv.close();
    checks.check(
      "a message kvq enqueued after its listener stopped reaches deno",
      got === "after the listener stopped",
      got === undefined
        ? `not delivered in ${STOPPED_TIMEOUT_MS} ms (left leased in queue_running?)`
        : `got ${String(got)}`,
    );
  }
}
temp.dispose();
checks.finish();
