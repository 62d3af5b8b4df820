/**
 * The queue on any Deno.Kv across real processes on one file: a SIGKILLed
 * holder's messages come back after its lease (as a failed attempt, as
 * Deno counts a crash), several workers share one queue with every
 * message handled, and a kvq process and a real Deno.openKv process share
 * one queue.
 *
 * @module
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIs,
  sleep,
  sleepUntil,
} from "../harness/helpers.ts";
import type { Case, Target } from "../harness/types.ts";
import { ROOT } from "./flavours.ts";
import { Worker } from "./processes.ts";
import { asQueue, FAST, withQueue } from "./targets.ts";

const needsFile = (t: Target) =>
  asQueue(t).shared ? undefined : "needs a file shared by processes";

/** Enqueues `m-0` .. `m-<n-1>` with `options`, 100 per atomic. */
async function enqueueAll(
  kv: { atomic(): { enqueue(v: unknown, o?: unknown): unknown } },
  n: number,
  options?: unknown,
): Promise<string[]> {
  const sent: string[] = [];
  for (let i = 0; i < n; i += 100) {
    const op = kv.atomic() as {
      enqueue(v: unknown, o?: unknown): unknown;
      commit(): Promise<{ ok: boolean }>;
    };
    for (let j = i; j < Math.min(n, i + 100); j++) {
      op.enqueue(`m-${j}`, options);
      sent.push(`m-${j}`);
    }
    if (!(await op.commit()).ok) throw new Error("enqueue failed");
  }
  return sent;
}

/** How often each value occurs. */
function counts(values: unknown[]): Map<unknown, number> {
  const out = new Map<unknown, number>();
  for (const v of values) out.set(v, (out.get(v) ?? 0) + 1);
  return out;
}

/** Whether the built npm package has withQueues (for the mixed case). */
function kvqNodeBuilt(): boolean {
  const file = join(ROOT, "npm/dist/index.js");
  return existsSync(file) &&
    readFileSync(file, "utf8").includes("withQueues");
}

export const cases: Case[] = [
  {
    name:
      "withQueues.processes: a SIGKILLed holder's messages come back after its lease, as a failed attempt",
    skip: needsFile,
    run: (t) =>
      withQueue(t, async (kv, path) => {
        await enqueueAll(kv, 4, { backoffSchedule: [50] });
        const holder = new Worker(asQueue(t).flavour, path, "consume", {
          queue: FAST,
          behaviour: "hang",
        });
        await holder.until(() => holder.got.length === 4, 20_000, "4 claims");
        await holder.kill();
        const killedAt = Date.now();
        // Every attempt fails: the crash was attempt 1, so the one retry
        // [50] allows is the only delivery here, then the dead letter.
        const seen: unknown[] = [];
        kv.listenQueue((m: unknown) => {
          seen.push(m);
          throw new Error("failing on purpose (expected)");
        });
        await sleepUntil(() => seen.length === 4, 5000, "4 redeliveries");
        const after = Date.now() - killedAt;
        await sleep(300);
        assertEquals([...seen].sort(), ["m-0", "m-1", "m-2", "m-3"]);
        assert(after < 3000, `redelivered ${after} ms after the kill`);
        const left = [];
        for await (const e of kv.list({ prefix: ["__kvq", "q"] })) {
          if (e.key[2] !== "w") left.push(e.key);
        }
        assertEquals(left, [], "message keys after the last attempt");
      }),
  },
  {
    name:
      "withQueues.processes: with backoffSchedule [] a SIGKILLed holder's messages go to their dead letters",
    skip: needsFile,
    run: (t) =>
      withQueue(t, async (kv, path) => {
        for (let i = 0; i < 3; i++) {
          await kv.enqueue(`d-${i}`, {
            backoffSchedule: [],
            keysIfUndelivered: [["dl", i]],
          });
        }
        const holder = new Worker(asQueue(t).flavour, path, "consume", {
          queue: FAST,
          behaviour: "hang",
        });
        await holder.until(() => holder.got.length === 3, 20_000, "3 claims");
        await holder.kill();
        const seen: unknown[] = [];
        kv.listenQueue((m: unknown) => {
          seen.push(m);
        });
        await sleepUntil(
          async () => (await kv.get(["dl", 2])).versionstamp !== null,
          5000,
          "dead letters",
        );
        const dead = await kv.getMany([["dl", 0], ["dl", 1], ["dl", 2]]);
        assertEquals(dead.map((e) => e.value), ["d-0", "d-1", "d-2"]);
        assertEquals(seen, [], "redeliveries");
      }),
  },
  {
    name:
      "withQueues.processes: three worker processes share 600 messages, each handled once",
    skip: needsFile,
    run: (t) =>
      withQueue(t, async (kv, path) => {
        const workers = [0, 1, 2].map(() =>
          new Worker(asQueue(t).flavour, path, "consume", {
            queue: FAST,
            concurrency: 20,
          })
        );
        try {
          await Promise.all(workers.map((w) => w.line("ready")));
          const sent = await enqueueAll(kv, 600);
          const all = () => workers.flatMap((w) => w.got);
          await sleepUntil(
            () => new Set(all()).size === sent.length,
            15_000,
            "every message handled",
          );
          await Promise.all(workers.map((w) => w.finish()));
          const c = counts(all());
          const duplicates = [...c.values()].reduce((n, k) => n + k - 1, 0);
          assertIs(c.size, 600, "distinct messages handled");
          assertIs(duplicates, 0, "duplicate deliveries");
          const split = workers.map((w) => w.got.length).join("/");
          console.log(`      split ${split}, duplicates ${duplicates}`);
        } finally {
          for (const w of workers) if (w.child.exitCode === null) w.kill();
        }
      }),
  },
  {
    name:
      "withQueues.processes: kvq on Node and real Deno.openKv share one queue on one file",
    skip: (t) =>
      asQueue(t).flavour !== "deno-native" || !asQueue(t).shared
        ? "runs on the Deno.openKv file target"
        : kvqNodeBuilt()
        ? undefined
        : "npm/dist has no withQueues (make build)",
    run: (t) =>
      withQueue(t, async (kv, path) => {
        const seen: unknown[] = [];
        // Slow enough that this process cannot drain the queue alone
        // before the Node worker's poll finds it: 300 messages take 600 ms
        // or more here, against a 50 ms poll, which a loaded machine
        // (make test runs five such suites side by side) delayed past the
        // 150 ms of 5 ms handlers once.
        kv.listenQueue(async (m: unknown) => {
          seen.push(m);
          await sleep(20);
        }, { concurrency: 10 });
        const node = new Worker("kvq-node", path, "consume", {
          queue: FAST,
          concurrency: 10,
        });
        try {
          await node.line("ready");
          const sent = await enqueueAll(kv, 300);
          const all = () => [...seen, ...node.got];
          await sleepUntil(
            () => new Set(all()).size === sent.length,
            15_000,
            "every message handled",
          );
          await node.finish();
          const c = counts(all());
          assertIs(c.size, 300, "distinct messages");
          assertIs([...c.values()].every((k) => k === 1), true, "each once");
          assert(node.got.length > 0, "kvq on Node handled none");
          // And the other way: kvq on Node enqueues, real Deno handles.
          const before = seen.length;
          const producer = new Worker("kvq-node", path, "enqueue", {
            count: 50,
            options: { backoffSchedule: [] },
          });
          await producer.line("enqueued 50");
          await producer.exited;
          await sleepUntil(
            () => seen.length - before === 50,
            5000,
            "kvq's messages handled by Deno",
          );
        } finally {
          if (node.child.exitCode === null) await node.kill();
        }
      }),
  },
];
