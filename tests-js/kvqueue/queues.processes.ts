/**
 * Named queues across 4 real processes on one file: ordering groups hold
 * (per group strictly in enqueue order, never two handlers at once, a
 * failing message blocks its group and no other), and 4 processes
 * enqueuing the same dedup ids at once add each message once.
 *
 * @module
 */

import { join } from "node:path";
import {
  assert,
  assertEquals,
  assertIs,
  sleepUntil,
} from "../harness/helpers.ts";
import type { Case, Target } from "../harness/types.ts";
import { ROOT } from "./flavours.ts";
import { Worker } from "./processes.ts";
import { QFAST, recordNamed, withNamed } from "./queues.helpers.ts";
import { asQueue } from "./targets.ts";

const SCRIPT = join(ROOT, "tests-js/kvqueue/queues.worker.ts");
const needsFile = (t: Target) =>
  asQueue(t).shared ? undefined : "needs a file shared by processes";

interface Event {
  value: { g: string; i: number; fail?: boolean };
  attempt: number;
  group: string;
  seq: number;
  at: number;
  kind: "start" | "end";
}

function events(workers: Worker[]): Event[] {
  return workers.flatMap((w) =>
    w.lines.filter((l) => l.startsWith("start ") || l.startsWith("end ")).map(
      (l) => {
        const [kind, rest] = [
          l.slice(0, l.indexOf(" ")),
          l.slice(l.indexOf(" ") + 1),
        ];
        return { ...JSON.parse(rest), kind } as Event;
      },
    )
  );
}

const GROUPS = 8;
const PER_GROUP = 15;

export const cases: Case[] = [
  {
    name:
      "queue.processes: 4 processes keep every group in enqueue order, one at a time; a failing message blocks only its group",
    skip: needsFile,
    run: (t) =>
      withNamed(t, async ({ q, path }) => {
        // A lease far longer than any pause of a loaded machine: this case
        // is about order, and a lease that lapsed while its handler still
        // ran would deliver the message again (at-least-once), out of it.
        // The SIGKILL case below is the one about lapsed leases.
        const options = {
          ...QFAST,
          leaseMs: 10_000,
          maxAttempts: 3,
          retryDelayMs: 150,
          retryFactor: 1,
        };
        const jobs = q("ordered", options);
        await Promise.all(
          Array.from({ length: GROUPS }, async (_, g) => {
            for (let i = 0; i < PER_GROUP; i++) {
              await jobs.enqueue(
                { g: `g${g}`, i, fail: g === 0 && i === 3 },
                { group: `g${g}` },
              );
            }
          }),
        );
        const workers = [0, 1, 2, 3].map(() =>
          new Worker(asQueue(t).flavour, path, "consume", {
            name: "ordered",
            options,
            concurrency: 4,
            sleepMs: 3,
            waitForGo: true,
          }, SCRIPT)
        );
        try {
          await Promise.all(workers.map((w) => w.line("ready")));
          for (const w of workers) w.send("go");
          const total = GROUPS * PER_GROUP + 2; // the failing one thrice
          await sleepUntil(
            () =>
              events(workers).filter((e) => e.kind === "end").length >= total,
            60_000,
            `${total} deliveries`,
          );
          const all = events(workers);
          const busy = workers.filter((w) =>
            w.lines.some((l) => l.startsWith("start "))
          ).length;
          assert(busy >= 2, `only ${busy} process(es) handled messages`);
          for (let g = 0; g < GROUPS; g++) {
            const mine = all.filter((e) => e.group === `g${g}`);
            const starts = mine.filter((e) => e.kind === "start").sort((a, b) =>
              a.at - b.at
            );
            const ends = mine.filter((e) => e.kind === "end").sort((a, b) =>
              a.at - b.at
            );
            const expected = Array.from({ length: PER_GROUP }, (_, i) => i);
            if (g === 0) expected.splice(3, 0, 3, 3);
            // Start order may tie within a millisecond; sort ties by seq.
            const order = [...starts].sort((a, b) =>
              a.at - b.at || a.seq - b.seq || a.attempt - b.attempt
            ).map((e) => e.value.i);
            assertEquals(order, expected, `order of group g${g}`);
            // Never two at once: each start is at or after the previous end.
            for (let k = 1; k < starts.length; k++) {
              assert(
                starts[k].at >= ends[k - 1].at,
                `group g${g}: delivery ${k} started at ${starts[k].at} before ${
                  ends[k - 1].at
                }`,
              );
            }
          }
          // The failing message held back its group only: other groups'
          // messages started while it waited for its retries.
          const failed = all.filter((e) => e.group === "g0" && e.value.i === 3);
          const firstFail = Math.min(...failed.map((e) => e.at));
          const next = all.find((e) =>
            e.group === "g0" && e.value.i === 4 && e.kind === "start"
          )!;
          const others = all.filter((e) =>
            e.group !== "g0" && e.kind === "start" && e.at > firstFail &&
            e.at < next.at
          );
          assert(
            others.length > 0 ||
              all.filter((e) => e.group !== "g0" && e.kind === "start")
                .every((e) => e.at <= firstFail),
            "other groups waited for g0's failing message",
          );
          assertIs((await jobs.deadLetters()).length, 1, "dead letters");
        } finally {
          await Promise.all(workers.map((w) => w.finish()));
        }
      }),
  },
  {
    name:
      "queue.processes: 4 processes enqueuing the same dedup ids at once add each message once, all get its id",
    skip: needsFile,
    run: (t) =>
      withNamed(t, async ({ q, path }) => {
        const N = 40;
        const workers = [0, 1, 2, 3].map((p) =>
          new Worker(asQueue(t).flavour, path, "enqueue", {
            name: "dedup",
            options: QFAST,
            waitForGo: true,
            items: Array.from({ length: N }, (_, i) => ({
              value: { i, p },
              options: { dedupId: `d-${i}` },
            })),
          }, SCRIPT)
        );
        try {
          await Promise.all(workers.map((w) => w.line("ready")));
          for (const w of workers) w.send("go");
          await Promise.all(workers.map((w) =>
            w.until(
              () => w.lines.some((l) => l.startsWith("result ")),
              60_000,
              "result",
            )
          ));
          const results = workers.map((w) =>
            JSON.parse(
              w.lines.find((l) => l.startsWith("result "))!.slice(7),
            ) as {
              id: string;
              duplicate: boolean;
            }[]
          );
          for (let i = 0; i < N; i++) {
            const ids = new Set(results.map((r) => r[i].id));
            assertIs(ids.size, 1, `ids for d-${i}`);
            const firsts = results.filter((r) => !r[i].duplicate).length;
            assertIs(firsts, 1, `non-duplicate enqueues of d-${i}`);
          }
          const jobs = q("dedup");
          const r = recordNamed(jobs);
          await sleepUntil(() => r.got.length >= N, 10_000, `${N} deliveries`);
          await new Promise((res) => setTimeout(res, 200));
          assertIs(r.got.length, N, "deliveries");
          const handled = r.got.map((g) => (g.value as { i: number }).i).sort((
            a,
            b,
          ) => a - b);
          assertEquals(handled, Array.from({ length: N }, (_, i) => i));
        } finally {
          await Promise.all(workers.map((w) => w.finish()));
        }
      }),
  },
  {
    name:
      "queue.processes: a SIGKILLed holder's group head comes back after its lease as attempt 2, and its group goes on in order",
    skip: needsFile,
    run: (t) =>
      withNamed(t, async ({ q, path }) => {
        const jobs = q("crash");
        await jobs.enqueue({ i: 1, hang: true }, { group: "g" });
        await jobs.enqueue({ i: 2 }, { group: "g" });
        await jobs.enqueue({ i: 3 }, { group: "g" });
        const holder = new Worker(asQueue(t).flavour, path, "consume", {
          name: "crash",
          options: QFAST,
        }, SCRIPT);
        await holder.until(
          () => events([holder]).some((e) => e.kind === "start"),
          20_000,
          "the first delivery",
        );
        await holder.kill();
        assertIs(events([holder]).length, 1, "deliveries before the kill");
        assertIs((await jobs.counts()).running, 1, "still leased");
        const got: [number, number][] = [];
        jobs.listen((v: { i: number }, info: { attempt: number }) => {
          got.push([v.i, info.attempt]);
        });
        await sleepUntil(() => got.length === 3, 10_000, "three deliveries");
        assertEquals(got, [[1, 2], [2, 1], [3, 1]]);
      }),
  },
];
