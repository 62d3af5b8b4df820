/**
 * kvq-only extensions (COMPATIBILITY.md section 3), skipped on targets
 * without them: listenQueue(handler, { concurrency, signal }), leases, and
 * the errors kvq's own options and unsupported URLs give.
 *
 * @module
 */

import {
  assert,
  assertIs,
  assertRejects,
  sleep,
  sleepUntil,
  within,
  withKv,
} from "../harness/helpers.ts";
import type { Case, Target } from "../harness/types.ts";

/** Skips the case on targets without kvq extensions (real Deno). */
function kvqOnly(t: Target): string | undefined {
  return t.kvqExtensions ? undefined : "kvq extension";
}

export const cases: Case[] = [
  {
    name: "kvq.listenQueue: at most `concurrency` handlers run at once",
    skip: kvqOnly,
    run: (t) =>
      withKv(t, async (kv) => {
        let running = 0;
        let peak = 0;
        let finished = 0;
        kv.listenQueue(async () => {
          running++;
          peak = Math.max(peak, running);
          await sleep(40);
          running--;
          finished++;
        }, { concurrency: 3 });
        const op = kv.atomic();
        for (let i = 0; i < 12; i++) op.enqueue(i);
        await op.commit();
        await sleepUntil(() => finished === 12, 8000, "all 12 handlers");
        assertIs(peak, 3, "peak concurrent handlers");
      }),
  },
  {
    name:
      "kvq.listenQueue: aborting the signal stops listening and resolves the promise",
    skip: kvqOnly,
    run: (t) =>
      withKv(t, async (kv) => {
        const seen: unknown[] = [];
        const ac = new AbortController();
        const done = kv.listenQueue((m: unknown) => {
          seen.push(m);
        }, { signal: ac.signal });
        await kv.enqueue("before");
        await sleepUntil(() => seen.length === 1, 3000, "the first delivery");
        ac.abort();
        assertIs(
          await within(done, 2000, "timeout"),
          undefined,
          "listen promise",
        );
        await kv.enqueue("after");
        await sleep(300);
        assertIs(seen.length, 1, "deliveries after abort");
        // The database itself stays usable after the listener stopped.
        await kv.set(["still"], "open");
      }),
  },
  {
    name:
      "kvq.listenQueue: an already-aborted signal resolves at once without delivering",
    skip: kvqOnly,
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.enqueue("m");
        let calls = 0;
        const done = kv.listenQueue(() => {
          calls++;
        }, { signal: AbortSignal.abort() });
        assertIs(
          await within(done, 2000, "timeout"),
          undefined,
          "listen promise",
        );
        await sleep(200);
        assertIs(calls, 0, "deliveries");
      }),
  },
  {
    name:
      "kvq.openKv: a handler running longer than leaseMs is not redelivered while it runs",
    skip: kvqOnly,
    run: (t) =>
      withKv(
        t,
        async (kv) => {
          let deliveries = 0;
          let finished = false;
          kv.listenQueue(async () => {
            deliveries++;
            await sleep(1500);
            finished = true;
          });
          await kv.enqueue("long");
          await sleepUntil(() => finished, 5000, "the long handler");
          await sleep(300);
          assertIs(deliveries, 1, "deliveries");
          assert(finished, "handler finished");
        },
        undefined,
        { leaseMs: 300 },
      ),
  },
  {
    name: "kvq.openKv: a leaseMs out of range rejects with TypeError",
    skip: kvqOnly,
    run: async (t) => {
      for (const [leaseMs, shown] of [[10, "10"], ["100", '"100"']]) {
        await assertRejects(
          () => t.openKv(":memory:", { leaseMs }),
          TypeError,
          `openKv: leaseMs must be a number of milliseconds from 30 to 86400000: received ${shown}`,
        );
      }
    },
  },
  {
    name: "kvq.openKv: an unknown durability rejects with TypeError",
    skip: kvqOnly,
    run: (t) =>
      assertRejects(
        () => t.openKv(":memory:", { durability: "fast" }),
        TypeError,
        'openKv: durability must be "full" or "relaxed": received "fast"',
      ),
  },
  {
    name: "kvq.openKv: options that are not an object reject with TypeError",
    skip: kvqOnly,
    run: (t) =>
      assertRejects(
        () => t.openKv(":memory:", 5 as unknown as Record<string, unknown>),
        TypeError,
        "openKv: options must be an object: received 5",
      ),
  },
  {
    name:
      "kvq.openKv: an unreachable KV Connect server rejects with Deno's TypeError",
    skip: kvqOnly,
    run: (t) =>
      assertRejects(
        () => t.openKv("http://127.0.0.1:1/", { accessToken: "not-shown" }),
        TypeError,
        // Deno's prefix, then the cause (never the token).
        /^Could not open Deno KV database: failed to connect to 'http:\/\/127\.0\.0\.1:1\/': error sending request for url \(http:\/\/127\.0\.0\.1:1\/\): (?!.*not-shown).*refused/,
      ),
  },
  {
    name:
      "kvq.listenQueue: a concurrency that is not a positive integer rejects",
    skip: kvqOnly,
    run: (t) =>
      withKv(t, async (kv) => {
        const listen = kv.listenQueue as (
          h: unknown,
          o: unknown,
        ) => Promise<void>;
        for (const [concurrency, shown] of [[0, "0"], [1.5, "1.5"]]) {
          await assertRejects(
            () => listen.call(kv, () => {}, { concurrency }),
            TypeError,
            `listenQueue: concurrency must be a positive integer: received ${shown}`,
          );
        }
        await assertRejects(
          () => listen.call(kv, () => {}, { signal: {} }),
          TypeError,
          "listenQueue: signal must be an AbortSignal",
        );
      }),
  },
  {
    name:
      "kv.kvqExpiries and kv.kvqPendingMessages: an entry's expiry and the queue's pending messages; undefined over KV Connect",
    skip: kvqOnly,
    run: async (t) => {
      const path = t.tempPath();
      await withKv(t, async (kv) => {
        // Over KV Connect, openKv returns the queue wrapper; its `store` is
        // kvq's Kv.
        type Inspectable = {
          kvqExpiries(k: unknown[]): Promise<(number | null)[] | undefined>;
          kvqPendingMessages(o?: { limit?: number }): Promise<
            | {
              messages: {
                dueMs: number;
                leased: boolean;
                value: unknown;
                backoffSchedule: number[] | null;
                keysIfUndelivered: unknown[];
              }[];
              cursor: string | null;
            }
            | undefined
          >;
        };
        const wrapped = kv as unknown as { store?: unknown };
        const own = ("kvqExpiries" in kv ? kv : wrapped.store) as Inspectable;
        const before = Date.now();
        await kv.set(["x", 1], "a", { expireIn: 60_000 });
        await kv.set(["x", 2], "b");
        await kv.enqueue({ m: 1 }, {
          delay: 60_000,
          keysIfUndelivered: [["dead", 1]],
          backoffSchedule: [5],
        });
        const expiries = await own.kvqExpiries([["x", 1], ["x", 2], ["x", 3]]);
        const page = await own.kvqPendingMessages({ limit: 10 });
        if (/^https?:/.test(path)) {
          assertIs(expiries, undefined, "expiries over KV Connect");
          assertIs(page, undefined, "pending over KV Connect");
          return;
        }
        assert(
          expiries !== undefined && expiries[0] !== null &&
            expiries[0] >= before + 60_000 &&
            expiries[0] <= Date.now() + 60_000,
          `expiry ${expiries?.[0]}`,
        );
        assertIs(expiries[1], null, "no expiry");
        assertIs(expiries[2], null, "no entry");
        assert(page !== undefined && page.messages.length === 1, "one message");
        const [m] = page.messages;
        assertIs(JSON.stringify(m.value), '{"m":1}', "value");
        assertIs(m.leased, false, "leased");
        assert(m.dueMs >= before + 60_000, `dueMs ${m.dueMs}`);
        assertIs(JSON.stringify(m.backoffSchedule), "[5]", "backoff");
        assertIs(JSON.stringify(m.keysIfUndelivered), '[["dead",1]]', "keys");
        assertIs(page.cursor, null, "cursor");
      }, path);
    },
  },
];
