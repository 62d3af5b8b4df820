/**
 * listenQueue of the queue on any Deno.Kv in one process: delay order,
 * retry counts and intervals, dead letters, concurrency, abort, lease
 * renewal, refused dead-letter keys. The conformance suite's queue cases
 * run on the wrapper too (mod.ts).
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  sleep,
  sleepUntil,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";
import { entries, messageKeys, P, record } from "./helpers.ts";
import { asQueue, FAST, withQueue } from "./targets.ts";

export const cases: Case[] = [
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
];
