/**
 * The queue on any Deno.Kv in one process: the key layout, delays, retry
 * counts, dead letters, atomic enqueues, concurrency, the signal, lease
 * renewal, and independent prefixes. The conformance suite's queue cases
 * run on the wrapper too (run_*.ts).
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
import type { QueuedKvLike } from "./flavours.ts";
import { asQueue, FAST, withQueue } from "./targets.ts";

const P = ["__kvq", "q"];

/** Every key under `prefix`, with its value. */
async function entries(kv: KvLike, prefix: unknown[] = P) {
  const out: { key: unknown[]; value: unknown }[] = [];
  for await (const e of kv.list({ prefix })) {
    out.push({ key: e.key, value: e.value });
  }
  return out;
}

/** The queue's message keys ("m", "r", "l"), as [kind, ...rest]. */
async function messageKeys(kv: KvLike): Promise<unknown[][]> {
  return (await entries(kv)).map((e) => e.key.slice(2)).filter((k) =>
    k[0] !== "w"
  );
}

/** A listener recording each delivery; `fail` decides failures. */
function record(
  kv: QueuedKvLike,
  fail: (m: unknown, n: number) => boolean = () => false,
  options?: unknown,
) {
  const seen: unknown[] = [];
  const times: number[] = [];
  const done = kv.listenQueue((m: unknown) => {
    seen.push(m);
    times.push(Date.now());
    if (fail(m, seen.filter((x) => x === m).length)) {
      throw new Error("handler failure (expected)");
    }
  }, options);
  return { seen, times, done };
}

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
      "withQueues.listenQueue: delays deliver in due order, none before its time",
    run: (t) =>
      withQueue(t, async (kv) => {
        const start = Date.now();
        for (const d of [250, 0, 100, 50, 200]) {
          await kv.enqueue(d, { delay: d });
        }
        const r = record(kv);
        await sleepUntil(() => r.seen.length === 5, 3000, "five deliveries");
        assertEquals(r.seen, [0, 50, 100, 200, 250]);
        r.seen.forEach((d, i) => {
          const late = r.times[i] - start - (d as number);
          assert(late >= 0, `delay ${d} delivered ${-late} ms early`);
        });
      }),
  },
  {
    name:
      "withQueues.listenQueue: backoffSchedule [10] gives two attempts, then the dead letter",
    run: (t) =>
      withQueue(t, async (kv) => {
        const r = record(kv, () => true);
        await kv.enqueue("x", {
          backoffSchedule: [10],
          keysIfUndelivered: [["dl", "a"], ["dl", "b"]],
        });
        await sleepUntil(
          async () => (await kv.get(["dl", "b"])).value === "x",
          3000,
          "dead letter",
        );
        assertIs(r.seen.length, 2, "attempts");
        assertIs((await kv.get(["dl", "a"])).value, "x");
        await sleep(100);
        assertIs(r.seen.length, 2, "attempts after the dead letter");
        assertEquals(await messageKeys(kv), [], "message keys left");
      }),
  },
  {
    name:
      "withQueues.listenQueue: backoffSchedule [] gives one attempt, then the dead letter",
    run: (t) =>
      withQueue(t, async (kv) => {
        const r = record(kv, () => true);
        await kv.enqueue({ v: 1n }, {
          backoffSchedule: [],
          keysIfUndelivered: [["dl"]],
        });
        await sleepUntil(
          async () => (await kv.get(["dl"])).versionstamp !== null,
          3000,
          "dead letter",
        );
        assertEquals((await kv.get(["dl"])).value, { v: 1n });
        await sleep(100);
        assertIs(r.seen.length, 1, "attempts");
        assertEquals(await messageKeys(kv), [], "message keys left");
      }),
  },
  {
    name:
      "withQueues.listenQueue: the default schedule retries after 100 ms, then after 1000 ms",
    run: (t) =>
      withQueue(t, async (kv) => {
        const r = record(kv, (_m, n) => n <= 2);
        await kv.enqueue("d");
        await sleepUntil(() => r.seen.length === 3, 4000, "three attempts");
        const gaps = [r.times[1] - r.times[0], r.times[2] - r.times[1]];
        assert(gaps[0] >= 100 && gaps[0] < 900, `first gap ${gaps[0]}`);
        assert(gaps[1] >= 1000, `second gap ${gaps[1]}`);
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
      "withQueues.listenQueue: concurrency caps the handlers running at once",
    run: (t) =>
      withQueue(t, async (kv) => {
        let running = 0;
        let peak = 0;
        let handled = 0;
        kv.listenQueue(async () => {
          peak = Math.max(peak, ++running);
          await sleep(60);
          running--;
          handled++;
        }, { concurrency: 3 });
        const op = kv.atomic();
        for (let i = 0; i < 10; i++) op.enqueue(i);
        await op.commit();
        await sleepUntil(() => handled === 10, 5000, "ten handled");
        assertIs(peak, 3, "peak concurrent handlers");
      }),
  },
  {
    name:
      "withQueues.listenQueue: an abort before claims land puts them back, attempts not counted",
    run: (t) =>
      withQueue(t, async (kv) => {
        const op = kv.atomic();
        for (let i = 0; i < 5; i++) op.enqueue(i);
        await op.commit();
        const stop = new AbortController();
        let calls = 0;
        // The first claim round is in flight when listenQueue returns.
        const done = kv.listenQueue(() => {
          calls++;
        }, { signal: stop.signal });
        stop.abort();
        await done;
        assertIs(calls, 0, "handlers started");
        const ready = (await entries(kv, [...P, "r"])).map((e) => e.value);
        assertIs(ready.length, 5, "ready messages");
        for (const v of ready) {
          assertIs((v as { attempts: number }).attempts, 0, "attempts");
        }
        assertEquals(await entries(kv, [...P, "l"]), [], "leases");
      }),
  },
  {
    name:
      "withQueues.listenQueue: after an abort running handlers finish and are acknowledged, nothing new starts",
    run: (t) =>
      withQueue(t, async (kv) => {
        const stop = new AbortController();
        let started = 0;
        let finished = 0;
        const done = kv.listenQueue(async () => {
          started++;
          await sleep(200);
          finished++;
        }, { signal: stop.signal });
        await kv.enqueue("slow");
        await sleepUntil(() => started === 1, 3000, "the handler to start");
        stop.abort();
        await done;
        assertIs(finished, 0, "the listener waited for the handler");
        await kv.enqueue("after");
        await sleepUntil(
          async () => (await messageKeys(kv)).length === 2,
          3000,
          "only the new message left",
        );
        assertIs(finished, 1, "the running handler finished");
        assertIs(started, 1, "nothing started after the abort");
        const left = await messageKeys(kv);
        assert(left.every((k) => k[0] !== "l"), "no lease left");
      }),
  },
  {
    name:
      "withQueues.listenQueue: a handler running longer than the lease is not redelivered",
    run: (t) =>
      withQueue(t, async (kv) => {
        // A second queue instance on the same store reclaims expired
        // leases every 50 ms: only renewal keeps the message.
        const other = asQueue(t).opened.wrap(kv.store, FAST);
        let calls = 0;
        const expiries = new Set<unknown>();
        const handler = async () => {
          calls++;
          for (let i = 0; i < 12; i++) {
            await sleep(100);
            for (const e of await entries(kv, [...P, "l"])) {
              expiries.add(e.key[3]);
            }
          }
        };
        kv.listenQueue(handler);
        other.listenQueue(handler);
        await kv.enqueue("long");
        await sleepUntil(
          async () => calls === 1 && (await messageKeys(kv)).length === 0,
          5000,
          "the acknowledgement",
        );
        await sleep(400);
        assertIs(calls, 1, "deliveries");
        assert(expiries.size >= 3, `lease renewed ${expiries.size - 1} times`);
        other.queue.close();
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
      "withQueues.listenQueue: a dead-letter key the store refuses drops that message, the queue goes on",
    run: (t) =>
      withQueue(t, async (kv) => {
        const errors: unknown[][] = [];
        const log = console.error;
        console.error = (...args: unknown[]) => errors.push(args);
        try {
          const r = record(kv, (m) => m === "bad");
          // Deno checks no dead-letter key's size at enqueue time; the
          // store refuses the write when the message dies.
          await kv.enqueue("bad", {
            backoffSchedule: [],
            keysIfUndelivered: [["x".repeat(3000)]],
          });
          await kv.enqueue("next");
          await sleepUntil(
            async () =>
              r.seen.includes("next") && (await messageKeys(kv)).length === 0,
            3000,
            "both messages gone",
          );
          assert(
            errors.some((e) => String(e[0]).includes("is dropped")),
            "the drop is logged",
          );
        } finally {
          console.error = log;
        }
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
