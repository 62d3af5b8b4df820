/**
 * kv.listenQueue (spec 5.2-5.5): delivery, delay, retries along a short
 * backoff schedule, dead letters, atomic enqueue and lifecycle. The
 * deviations from Deno are in queue.deviations.ts.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertRejects,
  closeQuietly,
  recordDeliveries,
  sleep,
  sleepUntil,
  within,
  withKv,
} from "../harness/helpers.ts";
import type { Case, KvLike } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name: "queue.listen: an enqueued message is delivered once with its value",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv);
        await kv.enqueue({ a: [1, "x"], b: 2n });
        await sleepUntil(() => r.seen.length === 1, 3000, "delivery");
        assertEquals(r.seen[0], { a: [1, "x"], b: 2n });
        await sleep(150);
        assertIs(r.seen.length, 1, "deliveries");
      }),
  },
  {
    name: "queue.listen: a message enqueued before listenQueue is delivered",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.enqueue("early");
        const r = recordDeliveries(kv);
        await sleepUntil(() => r.seen.length === 1, 3000, "delivery");
        assertIs(r.seen[0], "early");
      }),
  },
  {
    name:
      "queue.listen: payloads are V8 values: Uint8Array stays a Uint8Array, a KvU64 becomes { value }",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv);
        await kv.enqueue(new Uint8Array([1, 2]));
        await sleepUntil(() => r.seen.length === 1, 3000, "first delivery");
        await kv.enqueue(new t.KvU64(5n));
        await sleepUntil(() => r.seen.length === 2, 3000, "second delivery");
        await kv.enqueue();
        await sleepUntil(() => r.seen.length === 3, 3000, "third delivery");
        assertEquals(r.seen, [
          new Uint8Array([1, 2]),
          { value: 5n },
          undefined,
        ]);
        assert(
          !(r.seen[1] instanceof t.KvU64),
          "the KvU64 should arrive as a plain object",
        );
      }),
  },
  {
    name:
      "queue.listen: delayed messages arrive in due order and not before their delay",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv);
        const start = Date.now();
        await kv.enqueue(300, { delay: 300 });
        await kv.enqueue(100, { delay: 100 });
        await kv.enqueue(0, { delay: 0 });
        await sleepUntil(() => r.seen.length === 3, 3000, "three deliveries");
        assertEquals(r.seen, [0, 100, 300]);
        assert(
          r.times[2] - start >= 290,
          `delay 300 arrived after ${r.times[2] - start} ms`,
        );
      }),
  },
  {
    name:
      "queue.listen: a failing handler is retried along [10, 10]: three attempts, then dropped",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv, () => true);
        await kv.enqueue("m", { backoffSchedule: [10, 10] });
        await sleepUntil(() => r.seen.length === 3, 3000, "three attempts");
        await sleep(300);
        assertIs(r.seen.length, 3, "attempts");
      }),
  },
  {
    name: "queue.listen: a rejected promise counts as a failure like a throw",
    run: (t) =>
      withKv(t, async (kv) => {
        let calls = 0;
        kv.listenQueue(() => {
          calls++;
          return calls === 1
            ? Promise.reject(new Error("first attempt fails (expected)"))
            : Promise.resolve();
        });
        await kv.enqueue("m", { backoffSchedule: [10] });
        await sleepUntil(() => calls === 2, 3000, "the retry");
        await sleep(200);
        assertIs(calls, 2, "attempts");
      }),
  },
  {
    name: "queue.listen: the retry waits the first backoff interval",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv, (_m, attempt) => attempt === 1);
        await kv.enqueue("m", { backoffSchedule: [250] });
        await sleepUntil(() => r.seen.length === 2, 3000, "the retry");
        const gap = r.times[1] - r.times[0];
        assert(gap >= 240, `retry came ${gap} ms after the failure`);
      }),
  },
  {
    name:
      "queue.listen: with backoffSchedule [] a failure dead-letters at once to every key",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv, () => true);
        await kv.enqueue({ p: 1 }, {
          backoffSchedule: [],
          keysIfUndelivered: [["dl", 1], ["dl", 2]],
        });
        await sleepUntil(
          async () => (await kv.get(["dl", 2])).versionstamp !== null,
          3000,
          "dead letters",
        );
        const [a, b] = await kv.getMany([["dl", 1], ["dl", 2]]);
        assertEquals([a.value, b.value], [{ p: 1 }, { p: 1 }]);
        assertIs(a.versionstamp, b.versionstamp, "shared versionstamp");
        await sleep(150);
        assertIs(r.seen.length, 1, "attempts");
      }),
  },
  {
    name:
      "queue.listen: after the last retry the message is written to keysIfUndelivered",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv, () => true);
        await kv.enqueue("lost", {
          backoffSchedule: [10],
          keysIfUndelivered: [["dl"]],
        });
        await sleepUntil(
          async () => (await kv.get(["dl"])).value === "lost",
          3000,
          "dead letter",
        );
        assertIs(r.seen.length, 2, "attempts");
      }),
  },
  {
    name: "queue.listen: a successful message is not dead-lettered",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv);
        await kv.enqueue("ok", {
          backoffSchedule: [],
          keysIfUndelivered: [["dl"]],
        });
        await sleepUntil(() => r.seen.length === 1, 3000, "delivery");
        await sleep(100);
        assertIs((await kv.get(["dl"])).versionstamp, null);
      }),
  },
  {
    name:
      "queue.listen: keysIfUndelivered [[]] writes the dead letter under the empty key",
    run: (t) =>
      withKv(t, async (kv) => {
        recordDeliveries(kv, () => true);
        await kv.enqueue("empty", {
          backoffSchedule: [],
          keysIfUndelivered: [[]],
        });
        await sleepUntil(
          async () => (await kv.get([])).value === "empty",
          3000,
          "dead letter under []",
        );
        assertEquals(
          (await collectAll(kv)).length,
          0,
          "list({ prefix: [] }) excludes the empty key",
        );
      }),
  },
  {
    name:
      "queue.listen: an enqueue inside an atomic whose check fails is never delivered",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv);
        await kv.set(["guard"], 1);
        const res = await kv.atomic().check({
          key: ["guard"],
          versionstamp: null,
        }).enqueue("blocked").commit();
        assertIs(res.ok, false);
        await kv.atomic().check({ key: ["free"], versionstamp: null }).enqueue(
          "passed",
        ).commit();
        await sleepUntil(() => r.seen.length >= 1, 3000, "the passing message");
        await sleep(200);
        assertEquals(r.seen, ["passed"]);
      }),
  },
  {
    name: "queue.listen: a handler that is not a function counts as a failure",
    run: (t) =>
      withKv(t, async (kv) => {
        kv.listenQueue(123);
        await kv.enqueue("m", {
          backoffSchedule: [],
          keysIfUndelivered: [["dl"]],
        });
        await sleepUntil(
          async () => (await kv.get(["dl"])).value === "m",
          3000,
          "dead letter",
        );
      }),
  },
  {
    name:
      "queue.listen: a non-native thenable that rejects still counts as success",
    run: (t) =>
      withKv(t, async (kv) => {
        let calls = 0;
        kv.listenQueue(() => {
          calls++;
          return {
            then: (_ok: unknown, fail: (e: Error) => void) =>
              fail(new Error("ignored")),
          };
        });
        await kv.enqueue("m", {
          backoffSchedule: [10],
          keysIfUndelivered: [["dl"]],
        });
        await sleepUntil(() => calls === 1, 3000, "delivery");
        await sleep(200);
        assertIs(calls, 1, "attempts");
        assertIs((await kv.get(["dl"])).versionstamp, null, "dead letter");
      }),
  },
  {
    name: "queue.listen: two listeners on one handle share the messages",
    run: (t) =>
      withKv(t, async (kv) => {
        const a = recordDeliveries(kv);
        const b = recordDeliveries(kv);
        for (let i = 0; i < 6; i++) {
          await kv.enqueue(i);
          await sleepUntil(
            () => a.seen.length + b.seen.length === i + 1,
            3000,
            `message ${i}`,
          );
        }
        assert(
          a.seen.length > 0 && b.seen.length > 0,
          `split ${a.seen.length}/${b.seen.length}`,
        );
      }),
  },
  {
    name:
      "queue.listen: a delayed message survives closing and reopening a file database",
    run: async (t) => {
      const path = t.tempPath();
      await withKv(t, (kv) => kv.enqueue("persisted", { delay: 100 }), path);
      await withKv(t, async (kv) => {
        const r = recordDeliveries(kv);
        await sleepUntil(
          () => r.seen.length === 1,
          3000,
          "delivery after reopen",
        );
        assertIs(r.seen[0], "persisted");
      }, path);
    },
  },
  {
    name:
      "queue.listen: listenQueue after close() rejects with Queue already closed",
    run: async (t) => {
      const kv = await t.openKv(t.tempPath());
      kv.close();
      await assertRejects(
        () => kv.listenQueue(() => {}),
        Error,
        "Queue already closed",
      );
    },
  },
  {
    name:
      "queue.listen: listenQueue after [Symbol.dispose]() resolves instead of rejecting",
    run: async (t) => {
      const kv = await t.openKv(t.tempPath());
      kv[Symbol.dispose]();
      const r = await within(kv.listenQueue(() => {}), 2000, "timeout");
      assertIs(r, undefined, "listenQueue result");
    },
  },
  {
    name:
      "queue.listen: close() resolves the listen promise promptly, even with a handler running",
    run: (t) =>
      withKv(t, async (kv) => {
        let started = false;
        const done = kv.listenQueue(async () => {
          started = true;
          await sleep(5000);
        });
        await kv.enqueue("slow");
        await sleepUntil(() => started, 3000, "the handler to start");
        const before = Date.now();
        closeQuietly(kv);
        const r = await within(done, 2000, "timeout" as const);
        assertIs(r, undefined, "listen promise");
        assert(
          Date.now() - before < 1000,
          "close took too long to settle the listener",
        );
      }),
  },
];

/** Every entry under the empty prefix. */
async function collectAll(kv: KvLike): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const e of kv.list({ prefix: [] })) out.push(e);
  return out;
}
