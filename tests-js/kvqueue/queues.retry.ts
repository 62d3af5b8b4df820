/**
 * Named queues' retry waits: the exponential backoff from `retryDelayMs`
 * by `retryFactor`, its cap `maxRetryDelayMs`, and the spread
 * `retryJitter`, seen by a real listener on a real store (the gaps between
 * a message's attempts) and, over many draws, in the function that
 * computes a wait (jsr/src/queues/outcomes.ts `retryDelay`).
 *
 * The gaps are measured from the handler: attempt k+1 starts no sooner
 * than the wait after attempt k failed (the wait starts once attempt k has
 * failed, after its handler started), so a gap's lower bound is strict; its
 * upper bound allows for a slow, loaded machine ({@link LATE}).
 *
 * Every name starts with "queue retry delays:" (filter: `retry delays`;
 * run_postgres.ts and run_denokv.ts select names starting with "queue ").
 *
 * @module
 */

// The source, whatever build the target runs: pure functions, no native
// code (bundled with the suite for Node 20).
import { resolveQueueOptions } from "../../jsr/src/queues/options.ts";
import { retryDelay } from "../../jsr/src/queues/outcomes.ts";
import { assert, assertEquals } from "../harness/helpers.ts";
import type { Case, Target } from "../harness/types.ts";
import { quietly, recordNamed, withNamed } from "./queues.helpers.ts";

/**
 * How late an attempt may start after its wait ends: the listener's
 * wake-up, a claim and a delivery on a loaded 2-core machine (or a
 * Postgres server on it). Well below the gaps that tell a capped wait from
 * an uncapped one below.
 */
const LATE = 300;

/** How long a queue here may take to reach its dead letter. */
const ATTEMPTS_WITHIN_MS = 30_000;

/** The gaps, in ms, between consecutive attempts of one message. */
function gaps(at: number[]): number[] {
  return at.slice(1).map((t, i) => t - at[i]);
}

/**
 * Runs one message that always fails on each of the queues of `options`
 * (all at once, each with its own listener, on one fresh store of `t`)
 * until its dead letter, and resolves to the start times of each
 * message's attempts.
 */
function attemptTimes(
  t: Target,
  ...options: Record<string, unknown>[]
): Promise<number[][]> {
  return withNamed(
    t,
    ({ q }) =>
      quietly(() =>
        Promise.all(options.map(async (o, n) => {
          const jobs = q(`backoff-${n}`, o);
          const r = recordNamed(jobs, () => true);
          await jobs.enqueue("always fails");
          // Far past the nominal time (2.4 s for the longest queue
          // here): the bounds below judge the waits, not this.
          const deadline = Date.now() + ATTEMPTS_WITHIN_MS;
          while ((await jobs.deadLetters()).length === 0) {
            if (Date.now() > deadline) {
              throw new Error(
                `no dead letter after ${r.got.length} attempts: gaps ${
                  gaps(r.got.map((g) => g.at)).join(", ")
                }`,
              );
            }
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          assertEquals(
            r.got.map((g) => g.info.attempt),
            Array.from({ length: o.maxAttempts as number }, (_, i) => i + 1),
          );
          return r.got.map((g) => g.at);
        }))
      ),
  );
}

/** A case body that needs no store, as a case's `run`. */
function pure(body: () => void): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      body();
      resolve();
    });
}

export const cases: Case[] = [
  {
    name:
      "queue retry delays: with retryJitter 0 the waits grow by retryFactor from retryDelayMs and stop growing at maxRetryDelayMs",
    timeoutMs: ATTEMPTS_WITHIN_MS + 10_000,
    run: async (t) => {
      // Waits 25, 100, then 400 and 1600 capped to 150: 25, 100, 150, 150, 150.
      const [at] = await attemptTimes(t, {
        maxAttempts: 6,
        retryDelayMs: 25,
        retryFactor: 4,
        maxRetryDelayMs: 150,
        retryJitter: 0,
      });
      const got = gaps(at);
      const want = [25, 100, 150, 150, 150];
      const text = `gaps ${got.join(", ")} ms, waits ${want.join(", ")} ms`;
      for (let i = 0; i < want.length; i++) {
        // The lower bounds show the growth: the second wait is at least
        // 100 ms, the third at least 150 (1 ms for clocks read in whole
        // ms on both sides of a wait).
        assert(got[i] >= want[i] - 1, `attempt ${i + 2} too early: ${text}`);
        // The upper bounds show the cap: uncapped, the fourth wait would
        // be 1600 ms and the fifth 6400.
        assert(got[i] <= want[i] + LATE, `attempt ${i + 2} too late: ${text}`);
      }
    },
  },
  {
    name:
      "queue retry delays: with retryJitter 0.5 the waits vary within half of their step either side, and their growth stops at the cap",
    timeoutMs: ATTEMPTS_WITHIN_MS + 10_000,
    run: async (t) => {
      const jitter = 0.5;
      const [even, growing] = await attemptTimes(
        t,
        // Every step 60 ms: 39 waits drawn from 30…90 ms.
        {
          maxAttempts: 40,
          retryDelayMs: 60,
          retryFactor: 1,
          retryJitter: jitter,
        },
        // Steps 20, then 80, 320, … capped to 60: 20, 60, 60, 60, 60.
        {
          maxAttempts: 6,
          retryDelayMs: 20,
          retryFactor: 4,
          maxRetryDelayMs: 60,
          retryJitter: jitter,
        },
      );
      const check = (got: number[], steps: number[]) => {
        const text = `gaps ${got.join(", ")} ms, steps ${steps.join(", ")} ms`;
        for (let i = 0; i < got.length; i++) {
          const low = Math.floor(steps[i] * (1 - jitter));
          const high = Math.ceil(steps[i] * (1 + jitter));
          assert(got[i] >= low - 1, `wait ${i + 1} under ${low} ms: ${text}`);
          // Uncapped, the growing queue's fourth wait would be 640 ms or
          // more, its fifth 2560.
          assert(
            got[i] <= high + LATE,
            `wait ${i + 1} over ${high} + ${LATE} ms: ${text}`,
          );
        }
        return text;
      };
      const evenGaps = gaps(even);
      const text = check(evenGaps, evenGaps.map(() => 60));
      check(gaps(growing), [20, 60, 60, 60, 60]);
      // Without jitter no wait is shorter than its step (60 ms), however
      // loaded the machine; drawn from 30…90 ms, some are, even with each
      // redelivery 20 ms late (none of 39 draws under 40 ms: a chance of
      // about 1 in 1200; under 45 ms, 1 in 75000).
      const short = evenGaps.filter((g) => g < 60).length;
      assert(short > 0, `no wait under its step of 60 ms: ${text}`);
    },
  },
  {
    name:
      "queue retry delays: retryDelay() over 20000 draws stays in the band d*(1-j)…d*(1+j), spreads across it, and is exact without jitter",
    run: pure(() => {
      // Without jitter: retryDelayMs * retryFactor^(k-1), at most the cap.
      const exact = resolveQueueOptions({
        retryDelayMs: 10,
        retryFactor: 3,
        maxRetryDelayMs: 1000,
        retryJitter: 0,
      });
      assertEquals(
        [1, 2, 3, 4, 5, 6, 7, 50].map((k) => retryDelay(exact, k)),
        [10, 30, 90, 270, 810, 1000, 1000, 1000],
      );
      // The defaults: 1 s doubling, up to an hour.
      const defaults = resolveQueueOptions({ retryJitter: 0 });
      assertEquals(
        [1, 2, 3, 12, 13, 20].map((k) => retryDelay(defaults, k)),
        [1000, 2000, 4000, 2_048_000, 3_600_000, 3_600_000],
      );
      // With jitter 0.25 the wait after attempt 3 (400) is in 300…500.
      const jittered = resolveQueueOptions({
        retryDelayMs: 100,
        retryFactor: 2,
        maxRetryDelayMs: 100_000,
        retryJitter: 0.25,
      });
      const draws = Array.from(
        { length: 20000 },
        () => retryDelay(jittered, 3),
      );
      const min = Math.min(...draws);
      const max = Math.max(...draws);
      const mean = draws.reduce((a, b) => a + b, 0) / draws.length;
      const text = `min ${min}, max ${max}, mean ${mean.toFixed(1)}`;
      assert(draws.every(Number.isInteger), `a wait is not whole ms`);
      assert(min >= 300 && max <= 500, `out of 300…500: ${text}`);
      // Uniform on 300…500: each end's 5% is hit, the mean is 400 (its
      // standard error over 20000 draws is 0.4 ms).
      assert(min <= 310 && max >= 490, `not spread across the band: ${text}`);
      assert(Math.abs(mean - 400) <= 4, `not centred on 400: ${text}`);
      const below = draws.filter((d) => d < 400).length / draws.length;
      assert(below > 0.45 && below < 0.55, `${below} of the draws under 400`);
    }),
  },
  {
    name:
      "queue retry delays: a jittered wait never exceeds maxRetryDelayMs (retryDelay over 20000 draws at the cap)",
    run: pure(() => {
      const config = resolveQueueOptions({
        retryDelayMs: 100,
        retryFactor: 2,
        maxRetryDelayMs: 1000,
        retryJitter: 0.5,
      });
      // Attempt 10: 100 * 2^9 = 51200, capped to 1000.
      const draws = Array.from(
        { length: 20000 },
        () => retryDelay(config, 10),
      );
      const max = Math.max(...draws);
      const min = Math.min(...draws);
      assert(max <= 1000, `a wait of ${max} ms over the cap of 1000 ms`);
      assert(min >= 500, `a wait of ${min} ms under 1000 * (1 - 0.5)`);
    }),
  },
  {
    name:
      "queue retry delays: with retryDelayMs 0 every wait is 0, also once retryFactor^(k-1) overflows to Infinity",
    run: pure(() => {
      const config = resolveQueueOptions({
        retryDelayMs: 0,
        retryFactor: 100,
        maxAttempts: 1000,
        retryJitter: 0,
      });
      const bad: string[] = [];
      for (let k = 1; k < 1000; k++) {
        const d = retryDelay(config, k);
        if (d !== 0) bad.push(`attempt ${k}: ${d}`);
      }
      assert(
        bad.length === 0,
        `waits that are not 0: ${bad.slice(0, 3).join("; ")}`,
      );
    }),
  },
];
