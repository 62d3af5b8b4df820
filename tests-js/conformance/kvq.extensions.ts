/**
 * kvq-only extensions (COMPATIBILITY.md section 3), skipped on targets
 * without them: listenQueue(handler, { concurrency, signal }) and leases.
 *
 * @module
 */

import {
  assert,
  assertIs,
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
];
