/**
 * The queue on any Deno.Kv: its key layout, enqueues inside atomic
 * operations (the wrapper's and the store's own through enqueueIn),
 * prefixes and options, and the store's limits (checks and mutations per
 * atomic operation).
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertRejects,
  assertThrows,
  sleep,
  sleepUntil,
} from "../harness/helpers.ts";
import type { Case, KvLike } from "../harness/types.ts";
import { entries, messageKeys, P, record } from "./helpers.ts";
import { asQueue, FAST, withQueue } from "./targets.ts";

export const cases: Case[] = [
  {
    name:
      "withQueues.layout: an enqueue writes a body key, a ready key by due time and bumps the wake-up key",
    run: (t) =>
      withQueue(t, async (kv) => {
        const before = Date.now();
        await kv.enqueue({ a: 1 }, {
          delay: 60_000,
          backoffSchedule: [5],
          keysIfUndelivered: [["dl", 1]],
        });
        const all = await entries(kv);
        assertIs(all.length, 3, "keys under the prefix");
        const [m, r, w] = all;
        const id = m.key[3] as string;
        assert(/^[0-9a-f]{32}$/.test(id), `id ${id}`);
        assertEquals(m.key, [...P, "m", id]);
        assert(m.value instanceof Uint8Array, "the body is V8 bytes");
        assertIs(r.key[2], "r");
        const due = r.key[3] as number;
        assert(due >= before + 60_000 && due <= Date.now() + 60_000, "due");
        assertIs(r.key[4], id, "ready key id");
        assertEquals(r.value, {
          attempts: 0,
          backoffSchedule: [5],
          keysIfUndelivered: [["dl", 1]],
        });
        assertEquals(w.key, [...P, "w"]);
        assertIs((w.value as { value: bigint }).value, 1n, "wake-up count");
      }),
  },
  {
    name:
      "withQueues.atomic: an enqueue whose commit fails a check writes nothing",
    run: (t) =>
      withQueue(t, async (kv) => {
        const r = record(kv);
        await kv.set(["guard"], 1);
        const res = await kv.atomic().check({
          key: ["guard"],
          versionstamp: null,
        }).set(["side"], 1).enqueue("blocked").enqueue("blocked too")
          .commit();
        assertIs(res.ok, false);
        assertEquals(await messageKeys(kv), [], "message keys");
        assertIs((await kv.get(["side"])).versionstamp, null, "side write");
        await sleep(150);
        assertEquals(r.seen, []);
      }),
  },
  {
    name:
      "withQueues.atomic: messages commit with the operation's writes and share its versionstamp",
    run: (t) =>
      withQueue(t, async (kv) => {
        const r = record(kv);
        const res = await kv.atomic().check({ key: ["k"], versionstamp: null })
          .set(["k"], "v").enqueue("one").enqueue("two").commit();
        assertIs(res.ok, true);
        assertIs((await kv.get(["k"])).versionstamp, res.versionstamp);
        await sleepUntil(() => r.seen.length === 2, 3000, "two deliveries");
        assertEquals(r.seen, ["one", "two"]);
      }),
  },
  {
    name:
      "withQueues.atomic: a bad enqueue option rejects at commit and writes nothing",
    run: (t) =>
      withQueue(t, async (kv) => {
        const op = kv.atomic().set(["k"], 1).enqueue("m", {
          keysIfUndelivered: [[{}]],
        });
        await assertRejects(
          () => op.commit(),
          TypeError,
          "expected string, number, bigint, ArrayBufferView, boolean",
        );
        assertIs((await kv.get(["k"])).versionstamp, null);
        assertEquals(await messageKeys(kv), []);
      }),
  },
  {
    name:
      "withQueues.queue.enqueueIn: a message added to the store's own atomic commits with it",
    run: (t) =>
      withQueue(t, async (kv) => {
        const r = record(kv);
        const op = kv.store.atomic().check({ key: ["x"], versionstamp: null });
        kv.queue.enqueueIn(op, "raw");
        assertIs((await op.commit()).ok, true);
        const failing = kv.store.atomic().check({
          key: ["x"],
          versionstamp: null,
        });
        kv.queue.enqueueIn(failing, "never");
        await kv.store.set(["x"], 1);
        assertIs((await failing.commit()).ok, false);
        await sleepUntil(() => r.seen.length === 1, 3000, "delivery");
        await sleep(100);
        assertEquals(r.seen, ["raw"]);
        assertThrows(
          () => kv.queue.enqueueIn(kv.store.atomic(), "m", { delay: -1 }),
          TypeError,
          "Delay must be >= 0: received -1",
        );
      }),
  },
  {
    name:
      "withQueues: queues under different prefixes are independent; options are checked",
    run: (t) =>
      withQueue(t, async (kv) => {
        const b = asQueue(t).opened.wrap(kv.store, { ...FAST, prefix: ["b"] });
        const a = record(kv);
        const rb = record(b);
        await kv.enqueue("for a");
        await b.enqueue("for b");
        await sleepUntil(
          () => a.seen.length + rb.seen.length === 2,
          3000,
          "two deliveries",
        );
        await sleep(100);
        assertEquals([a.seen, rb.seen], [["for a"], ["for b"]]);
        assertIs((await entries(kv, ["b"])).length, 1, "b's wake-up key only");
        assertThrows(
          () => asQueue(t).opened.wrap(kv.store, { leaseMs: 10 }),
          TypeError,
          "KvQueue: leaseMs must be an integer of ms from 30 to 86400000: received 10",
        );
        assertThrows(
          () => asQueue(t).opened.wrap(kv.store, { prefix: [] }),
          TypeError,
          "KvQueue: prefix must be a non-empty key (an array of strings, numbers, bigints, booleans or Uint8Arrays)",
        );
      }),
  },
  {
    name:
      "withQueues: on a store refusing more than 10 checks per atomic (KV Connect's limit) batches drop to 10",
    run: (t) =>
      withQueue(t, async (kv) => {
        // The real store behind an adapter that refuses what the KV
        // Connect server refuses, with the error Deno's client raises.
        const store = kv.store;
        let refused = 0;
        let largest = 0;
        const limited = {
          get: (k: unknown, o?: unknown) => store.get(k, o),
          getMany: (k: unknown, o?: unknown) => store.getMany(k, o),
          list: (s: unknown, o?: unknown) => store.list(s, o),
          watch: (k: unknown, o?: unknown) => store.watch(k, o),
          atomic() {
            const op = store.atomic();
            let checks = 0;
            const self = {
              check(...c: unknown[]) {
                checks += c.length;
                op.check(...c);
                return self;
              },
              set(k: unknown, v: unknown, o?: unknown) {
                op.set(k, v, o);
                return self;
              },
              delete(k: unknown) {
                op.delete(k);
                return self;
              },
              sum(k: unknown, n: unknown) {
                op.sum(k, n);
                return self;
              },
              commit() {
                if (checks > 10) {
                  refused++;
                  return Promise.reject(
                    new Error(
                      "KV Connect failed to call 'http://127.0.0.1:4512/v2/atomic_write' (status=400 Bad Request): Too many checks included in atomic write.",
                    ),
                  );
                }
                largest = Math.max(largest, checks);
                return op.commit();
              },
            };
            return self;
          },
        };
        const q = asQueue(t).opened.wrap(limited as unknown as KvLike, FAST);
        const op = q.atomic();
        for (let i = 0; i < 60; i++) op.enqueue(i);
        await op.commit();
        const r = record(q);
        await sleepUntil(() => r.seen.length === 60, 5000, "60 deliveries");
        await sleepUntil(
          async () => (await messageKeys(kv)).length === 0,
          3000,
          "every message acknowledged",
        );
        assertEquals(r.seen, Array.from({ length: 60 }, (_, i) => i));
        assertIs(refused, 1, "refused commits");
        assertIs(largest, 10, "largest batch after the refusal");
        q.queue.close();
      }),
  },
  {
    name:
      "withQueues.atomic: 499 enqueues fit one operation, 500 exceed the store's mutation limit",
    run: (t) =>
      withQueue(t, async (kv) => {
        const op = kv.atomic();
        for (let i = 0; i < 499; i++) op.enqueue(i, { delay: 60_000 });
        assertIs((await op.commit()).ok, true);
        const big = kv.atomic();
        for (let i = 0; i < 500; i++) big.enqueue(i);
        await assertRejects(
          () => big.commit(),
          TypeError,
          "Too many mutations (max 1000)",
        );
      }),
  },
];
