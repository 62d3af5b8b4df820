/**
 * Named queues: ids and metadata, isolation from each other and from
 * Deno's default queue, listeners with their own concurrency, the retry
 * policy (attempts, backoff, noRetry, dead letters with their last error),
 * timeouts, and the TypeErrors of bad arguments.
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
import type { InfoLike } from "./flavours.ts";
import { recordNamed, withNamed } from "./queues.helpers.ts";

const ID = /^[0-9a-f]{32}$/;

/** Expects `fn` to throw a TypeError whose message matches `re`. */
async function throwsType(fn: () => unknown, re: RegExp): Promise<void> {
  try {
    await fn();
  } catch (error) {
    assert(error instanceof TypeError, `not a TypeError: ${error}`);
    assert(
      re.test((error as Error).message),
      `message: ${(error as Error).message}`,
    );
    return;
  }
  throw new Error(`no TypeError matching ${re}`);
}

export const cases: Case[] = [
  {
    name:
      "queue.enqueue: returns the message id next to ok and versionstamp; the handler gets it with its metadata",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const emails = q("emails");
        const before = Date.now();
        const res = await emails.enqueue({ to: "ada" });
        assertIs(res.ok, true);
        assert(ID.test(res.id), `id ${res.id}`);
        assert(/^[0-9a-f]{20}$/.test(res.versionstamp), "versionstamp");
        assertIs(res.duplicate, false);
        const r = recordNamed(emails);
        await sleepUntil(() => r.got.length === 1, 3000, "delivery");
        const { value, info } = r.got[0];
        assertEquals(value, { to: "ada" });
        assertIs(info.id, res.id);
        assertIs(info.queue, "emails");
        assertIs(info.attempt, 1);
        assertIs(info.group, null);
        assertIs(info.seq, null);
        assert(info.enqueuedAt instanceof Date, "enqueuedAt is a Date");
        const at = info.enqueuedAt.getTime();
        assert(at >= before - 5 && at <= Date.now(), `enqueuedAt ${at}`);
        assert(info.signal instanceof AbortSignal, "signal");
        assertIs(info.signal.aborted, false);
      }),
  },
  {
    name:
      "queue: messages of one queue never reach another's listener, nor Deno's listenQueue",
    run: (t) =>
      withNamed(t, async ({ q, kv }) => {
        const a = q("a");
        const b = q("b");
        const ra = recordNamed(a);
        const rb = recordNamed(b);
        const plain: unknown[] = [];
        const stop = new AbortController();
        // Deno's own queue of the same store (native on Deno and kvq).
        const plainDone = kv.listenQueue((m: unknown) => {
          plain.push(m);
        }, { signal: stop.signal } as never);
        for (let i = 0; i < 5; i++) {
          await a.enqueue(`a${i}`);
          await b.enqueue(`b${i}`);
        }
        await kv.enqueue("plain");
        await sleepUntil(
          () =>
            ra.got.length === 5 && rb.got.length === 5 && plain.length === 1,
          5000,
          "deliveries",
        );
        await sleep(100);
        assertEquals(ra.got.map((g) => g.value).sort(), [
          "a0",
          "a1",
          "a2",
          "a3",
          "a4",
        ]);
        assertEquals(rb.got.map((g) => g.value).sort(), [
          "b0",
          "b1",
          "b2",
          "b3",
          "b4",
        ]);
        assertEquals(plain, ["plain"]);
        stop.abort();
        await Promise.race([plainDone, sleep(2000)]);
      }),
  },
  {
    name:
      "queue.listen: each listener has its own concurrency; two listeners share one queue, each message once",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        let running1 = 0, peak1 = 0, running2 = 0, peak2 = 0;
        const seen: unknown[] = [];
        jobs.listen(async (v: unknown) => {
          peak1 = Math.max(peak1, ++running1);
          seen.push(v);
          await sleep(30);
          running1--;
        }, { concurrency: 2 });
        jobs.listen(async (v: unknown) => {
          peak2 = Math.max(peak2, ++running2);
          seen.push(v);
          await sleep(30);
          running2--;
        }, { concurrency: 3 });
        await Promise.all(
          Array.from({ length: 30 }, (_, i) => jobs.enqueue(i)),
        );
        await sleepUntil(() => seen.length >= 30, 8000, "30 handled");
        await sleep(100);
        assertIs(seen.length, 30, "deliveries");
        assertIs(new Set(seen).size, 30, "distinct");
        assert(peak1 <= 2, `listener 1 peak ${peak1}`);
        assert(peak2 <= 3, `listener 2 peak ${peak2}`);
        assert(peak1 + peak2 >= 3, `peaks ${peak1} + ${peak2}`);
      }),
  },
  {
    name:
      "queue policy: a failing message is retried with growing waits up to maxAttempts, then dead-lettered with its last error",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs", {
          maxAttempts: 4,
          retryDelayMs: 40,
          retryFactor: 2,
        });
        const r = recordNamed(jobs, () => true);
        const { id } = await jobs.enqueue("doomed", { group: undefined });
        await sleepUntil(
          async () => (await jobs.deadLetters()).length === 1,
          5000,
          "dead letter",
        );
        assertEquals(r.got.map((g) => g.info.attempt), [1, 2, 3, 4]);
        const gaps = r.got.slice(1).map((g, i) => g.at - r.got[i].at);
        assert(gaps[0] >= 40, `first wait ${gaps[0]}`);
        assert(gaps[1] >= 80, `second wait ${gaps[1]}`);
        assert(gaps[2] >= 160, `third wait ${gaps[2]}`);
        const [dead] = await jobs.deadLetters();
        assertIs(dead.id, id);
        assertIs(dead.value, "doomed");
        assertIs(dead.attempts, 4);
        assertIs(dead.lastError, "failing doomed (expected)");
        assert(dead.failedAt instanceof Date, "failedAt");
        assertEquals(await jobs.counts(), {
          ready: 0,
          delayed: 0,
          waiting: 0,
          running: 0,
          dead: 1,
        });
      }),
  },
  {
    name: "queue policy: maxAttempts beyond Deno's 5 retries (12 attempts)",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs", {
          maxAttempts: 12,
          retryDelayMs: 1,
          retryFactor: 1,
        });
        const r = recordNamed(jobs, (_v, info) => info.attempt < 12);
        await jobs.enqueue("late");
        await sleepUntil(() => r.got.length === 12, 8000, "12 attempts");
        await sleep(150);
        assertIs(r.got.length, 12);
        assertEquals(await jobs.deadLetters(), []);
      }),
  },
  {
    name:
      "queue policy: an error listed in noRetry dead-letters at once, by class or by name",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        class Permanent extends Error {}
        const jobs = q("jobs", { noRetry: [Permanent, "RangeError"] });
        let calls = 0;
        jobs.listen((v: unknown) => {
          calls++;
          if (v === "class") throw new Permanent("bad input");
          throw new RangeError("out of range");
        });
        await jobs.enqueue("class");
        await jobs.enqueue("name");
        await sleepUntil(
          async () => (await jobs.deadLetters()).length === 2,
          5000,
          "two dead letters",
        );
        await sleep(100);
        assertIs(calls, 2, "attempts");
        const errors = (await jobs.deadLetters()).map((d) => d.lastError)
          .sort();
        assertEquals(errors, ["RangeError: out of range", "bad input"]);
      }),
  },
  {
    name:
      "queue policy: a handler past its timeout sees its signal abort, and the message is retried",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs", { timeoutMs: 150, maxAttempts: 3 });
        const aborted: { attempt: number; reason: unknown; after: number }[] =
          [];
        const attempts: number[] = [];
        jobs.listen(async (_v: unknown, info: InfoLike) => {
          attempts.push(info.attempt);
          if (info.attempt > 1) return;
          const start = Date.now();
          await new Promise<void>((resolve) => {
            info.signal.addEventListener("abort", () => {
              aborted.push({
                attempt: info.attempt,
                reason: info.signal.reason,
                after: Date.now() - start,
              });
              resolve();
            });
          });
        });
        await jobs.enqueue("slow");
        await sleepUntil(() => attempts.length === 2, 5000, "the retry");
        assertIs(aborted.length, 1, "aborts");
        assert(aborted[0].after >= 140, `aborted after ${aborted[0].after} ms`);
        const reason = aborted[0].reason as Error;
        assertIs(reason.name, "QueueTimeoutError");
        assert(/timed out after 150 ms/.test(reason.message), reason.message);
        await sleep(200);
        assertEquals(attempts, [1, 2]);
        assertEquals((await jobs.counts()).dead, 0);
      }),
  },
  {
    name:
      "queue.listen: stopping the listener aborts running handlers' signals",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        const stop = new AbortController();
        let signal: AbortSignal | undefined;
        const done = jobs.listen(async (_v: unknown, info: InfoLike) => {
          signal = info.signal;
          await sleep(200);
        }, { signal: stop.signal });
        await jobs.enqueue(1);
        await sleepUntil(() => signal !== undefined, 3000, "delivery");
        stop.abort();
        await done;
        assertIs(signal!.aborted, true);
        assertIs((signal!.reason as Error).name, "AbortError");
      }),
  },
  {
    name: "queue: bad names and options throw TypeErrors naming them",
    run: (t) =>
      withNamed(t, async ({ kv, api, q }) => {
        await throwsType(
          () => api.queue(kv, ""),
          /name must be a non-empty string/,
        );
        await throwsType(() => api.queue(kv, 7 as never), /name must be/);
        await throwsType(
          () => api.queue({} as never, "x"),
          /kv must be a Deno.Kv/,
        );
        await throwsType(
          () => api.queue(kv, "x", { timeoutMs: -1 }),
          /timeoutMs must be an integer from 1 to 86400000: received -1/,
        );
        await throwsType(
          () => api.queue(kv, "x", { maxAttempts: 0 }),
          /maxAttempts must be an integer from 1 to 1000/,
        );
        await throwsType(
          () => api.queue(kv, "x", { retryJitter: 2 }),
          /retryJitter must be a number from 0 to 1/,
        );
        await throwsType(
          () => api.queue(kv, "x", { noRetry: "Error" }),
          /noRetry must be an array/,
        );
        await throwsType(
          () => api.queue(kv, "x", { deduplicate: "yes" }),
          /deduplicate must be a boolean/,
        );
        await throwsType(() => api.queue(kv, "x", { prefix: ["a"] }), /prefix/);
        const jobs = q("jobs");
        await throwsType(() => jobs.enqueue(1, { delay: -5 }), /delay must be/);
        await throwsType(
          () => jobs.enqueue(1, { group: 3 }),
          /group must be a non-empty string/,
        );
        await throwsType(
          () => jobs.enqueue(1, { dedupId: "" }),
          /dedupId must be/,
        );
        await throwsType(() => jobs.enqueue(() => 1), /./);
        await throwsType(
          () => jobs.enqueue(new Uint8Array(70000)),
          /payload too large/,
        );
        await throwsType(() => jobs.listen(42), /handlers must be an object/);
        await throwsType(
          () => jobs.listen({ a: 1 }),
          /the handler of type "a" must be a function/,
        );
        await throwsType(
          () => jobs.listen(() => {}, { concurrency: 0 }),
          /concurrency must be an integer from 1 to 10000/,
        );
        await throwsType(() => jobs.cancel("nope"), /id must be a message id/);
        await throwsType(
          () => jobs.send(""),
          /type must be a non-empty string/,
        );
      }),
  },
];
