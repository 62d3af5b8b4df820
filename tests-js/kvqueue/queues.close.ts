/**
 * A named queue kept in the engine when its store closes: every call of
 * a handle afterwards (enqueue, send, enqueueIn, listen, the management
 * API) rejects with `BadResource` "Bad resource ID", as the store's own
 * calls do (conformance/kv.close.ts), whether the handle was used before
 * the close or made after it; and the messages whose handlers were
 * running at the close are not lost: a listener on the reopened store
 * gets them again at once (released, the attempt not counted), each
 * group in order.
 *
 * Kept as keys (Deno's own `Deno.openKv`, KV Connect) a closed store
 * behaves as queues-on-kv.md says instead: these cases skip there.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertRejects,
  sleep,
  sleepUntil,
} from "../harness/helpers.ts";
import type { Case, ErrorClass, KvLike, Target } from "../harness/types.ts";
import type { InfoLike, NamedQueueLike } from "./flavours.ts";
import { type Got, NO_COUNTS, QFAST, withNamed } from "./queues.helpers.ts";
import { asQueue } from "./targets.ts";

const BAD = "Bad resource ID";

/** Skips stores that keep named queues as keys. */
function engineOnly(t: Target): string | undefined {
  return asQueue(t).flavour === "deno-native" || t.name.endsWith("-denokv")
    ? "named queues kept as keys there"
    : undefined;
}

/** The target's BadResource class. */
function badResource(t: Target): ErrorClass {
  if (!t.BadResource) throw new Error(`target ${t.name} has no BadResource`);
  return t.BadResource;
}

/** Every call of `q` but listen and storedIn, by name. */
function calls(
  kv: KvLike,
  q: NamedQueueLike,
): [string, () => Promise<unknown>][] {
  return [
    ["enqueue", () => q.enqueue(1)],
    ["enqueue with a group", () => q.enqueue(1, { group: "g" })],
    ["send", () => q.send("t", 1)],
    ["enqueueIn", () => q.enqueueIn(kv.atomic(), 1)],
    ["counts", () => q.counts()],
    ["peek", () => q.peek()],
    ["deadLetters", () => q.deadLetters()],
    ["cancel", () => q.cancel("0".repeat(32))],
    ["redrive", () => q.redrive()],
    ["purge", () => q.purge({ dead: true })],
    ["stats", () => q.stats({ intervalMs: 0 })],
  ];
}

/** Opens `path` on `t`'s flavour, unwrapped. */
function reopen(t: Target, path: string): Promise<KvLike> {
  return asQueue(t).opened.openRaw(path);
}

export const cases: Case[] = [
  {
    name:
      "queue on a closed store: enqueue, send, enqueueIn and every management call reject with BadResource, handles used before the close or made after",
    skip: engineOnly,
    run: (t) =>
      withNamed(t, async ({ kv, q, path, api }) => {
        const used = q("jobs");
        await used.enqueue("before");
        assertIs(await used.storedIn(), "engine");
        kv.close();
        const made = q("other");
        for (const [which, handle] of [["used", used], ["made", made]]) {
          for (const [call, f] of calls(kv, handle as NamedQueueLike)) {
            try {
              await assertRejects(f, badResource(t), BAD);
            } catch (e) {
              throw new Error(`${which} handle, ${call}: ${e}`);
            }
          }
        }
        // Nothing the refused calls carried was stored.
        const again = await reopen(t, path);
        try {
          assertEquals(await api.listQueues(again), ["jobs"]);
          const jobs = api.queue(again, "jobs", QFAST);
          const peeked = await jobs.peek();
          assertEquals(peeked.map((m) => m.value), ["before"]);
        } finally {
          again.close();
        }
      }),
  },
  {
    name:
      "queue on a closed store: listen and storedIn reject with BadResource, also on a handle used before the close",
    skip: engineOnly,
    run: (t) =>
      withNamed(t, async ({ kv, q }) => {
        const used = q("jobs");
        await used.enqueue("before");
        const stop = new AbortController();
        const first = used.listen(() => {}, { signal: stop.signal });
        await sleep(50);
        kv.close();
        // The listener that ran ends with the store, as listenQueue does.
        assertIs(await first, undefined);
        const made = q("other");
        const seen: string[] = [];
        for (const [which, handle] of [["used", used], ["made", made]]) {
          for (const call of ["listen", "storedIn"]) {
            const f = call === "listen"
              ? () => (handle as NamedQueueLike).listen(() => {})
              : () => (handle as NamedQueueLike).storedIn();
            let outcome: string;
            try {
              const r = await Promise.race([
                f(),
                sleep(2000).then(() => "(still pending after 2 s)"),
              ]);
              outcome = `resolved ${JSON.stringify(r)}`;
            } catch (e) {
              const err = e as Error;
              outcome = `${
                e instanceof badResource(t) ? "BadResource" : err?.name
              }: ${err?.message}`;
            }
            seen.push(`${which} ${call}: ${outcome}`);
          }
        }
        assertEquals(seen, [
          `used listen: BadResource: ${BAD}`,
          `used storedIn: BadResource: ${BAD}`,
          `made listen: BadResource: ${BAD}`,
          `made storedIn: BadResource: ${BAD}`,
        ], `what the calls did (${seen.join("; ")})`);
      }),
  },
  {
    name:
      "queue on a closed store: messages whose handlers run at the close come again at once on a reopened store, the attempt not counted, groups in order; those handled before do not",
    skip: engineOnly,
    run: async (t) => {
      const path = t.tempPath();
      // A lease far longer than the case: whatever comes again was
      // released at the close, not taken back when a lease lapsed.
      const options = { ...QFAST, leaseMs: 60_000 };
      const ids = new Map<string, string>();
      await withNamed(t, async ({ kv, q }) => {
        const jobs = q("jobs", options);
        for (const v of ["a", "b", "c", "quick1", "quick2"]) {
          ids.set(v, (await jobs.enqueue(v)).id);
        }
        for (const v of ["g1", "g2", "g3"]) {
          ids.set(v, (await jobs.enqueue(v, { group: "g" })).id);
        }
        let running = 0;
        let quick = 0;
        const listening = jobs.listen(async (v: string) => {
          if (v.startsWith("quick")) {
            quick++;
            return;
          }
          running++;
          await new Promise(() => {}); // runs past the close
        }, { concurrency: 10 });
        // a, b, c and g1 run; g2 and g3 wait behind g1.
        await sleepUntil(() => running === 4 && quick === 2, 3000, "running");
        // The quick ones' outcomes are recorded before the close.
        await sleepUntil(
          async () => (await jobs.counts()).running === 4,
          3000,
          "quick ones acknowledged",
        );
        assertEquals(await jobs.counts(), {
          ready: 0,
          delayed: 0,
          waiting: 2,
          running: 4,
          dead: 0,
        });
        kv.close();
        assertIs(await listening, undefined, "the listener ends");
      }, path);
      const again = await reopen(t, path);
      try {
        const jobs = asQueue(t).opened.api.queue(again, "jobs", options);
        const got: Got[] = [];
        const t0 = Date.now();
        jobs.listen((value: unknown, info: InfoLike) => {
          got.push({ value, info, at: Date.now() });
        });
        await sleepUntil(() => got.length >= 6, 3000, "six messages");
        const within = Date.now() - t0;
        await sleep(300); // one delivered twice would show here
        jobs.close();
        const values = got.map((g) => g.value as string);
        assertEquals([...values].sort(), ["a", "b", "c", "g1", "g2", "g3"]);
        assertEquals(values.filter((v) => v.startsWith("g")), [
          "g1",
          "g2",
          "g3",
        ]);
        for (const g of got) {
          assertIs(g.info.id, ids.get(g.value as string), `${g.value}'s id`);
          assertIs(g.info.attempt, 1, `${g.value}: the attempt not counted`);
        }
        assertEquals(
          got.filter((g) => g.info.group === "g").map((g) => g.info.seq),
          [1, 2, 3],
        );
        await sleepUntil(
          async () => (await jobs.counts()).running === 0,
          3000,
          "every outcome recorded",
        );
        assertEquals(await jobs.counts(), NO_COUNTS);
        assert(within < 3000, `delivered again after ${within} ms`);
      } finally {
        again.close();
      }
    },
  },
];
