/**
 * Ordering groups in one process: per group one at a time in enqueue
 * order, groups in parallel, a failing message holds back only its group,
 * and group metadata (id, sequence number). The 4-process case is in
 * queues.processes.ts.
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
import { NO_COUNTS, withNamed } from "./queues.helpers.ts";

export const cases: Case[] = [
  {
    name:
      "queue groups: one at a time per group, in enqueue order, groups in parallel, with group and seq",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        const running = new Map<string, number>();
        const order = new Map<string, number[]>();
        const seqs = new Map<string, number[]>();
        let overlap = 0;
        let parallel = 0;
        let now = 0;
        // Handlers finish only once every message is enqueued: a group that
        // emptied in between would number its next message 1 again.
        let enqueued!: () => void;
        const allEnqueued = new Promise<void>((r) => enqueued = r);
        jobs.listen(async (v: { g: string; i: number }, info: InfoLike) => {
          if ((running.get(v.g) ?? 0) > 0) overlap++;
          running.set(v.g, (running.get(v.g) ?? 0) + 1);
          parallel = Math.max(parallel, ++now);
          order.set(v.g, [...(order.get(v.g) ?? []), v.i]);
          seqs.set(info.group!, [...(seqs.get(info.group!) ?? []), info.seq!]);
          await allEnqueued;
          await sleep(5);
          now--;
          running.set(v.g, running.get(v.g)! - 1);
        }, { concurrency: 20 });
        // Enqueued concurrently per group, in order within a group.
        await Promise.all(["A", "B", "C", "D"].map(async (g) => {
          for (let i = 0; i < 10; i++) {
            await jobs.enqueue({ g, i }, { group: g });
          }
        }));
        enqueued();
        await sleepUntil(
          () => [...order.values()].reduce((n, o) => n + o.length, 0) === 40,
          8000,
          "40 handled",
        );
        for (const g of ["A", "B", "C", "D"]) {
          assertEquals(
            order.get(g),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            `group ${g}`,
          );
          assertEquals(
            seqs.get(g),
            [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            `seq ${g}`,
          );
        }
        assertIs(overlap, 0, "handlers of one group at once");
        assert(parallel >= 2, `groups ran in parallel (${parallel})`);
      }),
  },
  {
    name:
      "queue groups: a failing message blocks its own group while it retries, and no other",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs", {
          maxAttempts: 4,
          retryDelayMs: 100,
          retryFactor: 1,
        });
        const log: string[] = [];
        jobs.listen((v: string, info: InfoLike) => {
          log.push(`${v}#${info.attempt}`);
          if (v === "A1") throw new Error("A1 fails (expected)");
        });
        await jobs.enqueue("A1", { group: "A" });
        await jobs.enqueue("A2", { group: "A" });
        for (let i = 1; i <= 3; i++) {
          await jobs.enqueue(`B${i}`, { group: "B" });
        }
        await jobs.enqueue("free");
        await sleepUntil(
          () => log.includes("B3#1") && log.includes("free#1"),
          3000,
          "B and free",
        );
        // B and the ungrouped message went on while A1 retries.
        assert(!log.includes("A2#1"), `A2 ran before A1 was done: ${log}`);
        await sleepUntil(
          () => log.includes("A2#1"),
          5000,
          "A2 after A1's dead letter",
        );
        const a = log.filter((l) => l.startsWith("A"));
        assertEquals(a, ["A1#1", "A1#2", "A1#3", "A1#4", "A2#1"]);
        assertIs((await jobs.deadLetters())[0].group, "A");
        await sleep(50);
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
    name:
      "queue groups: messages behind a head are counted as waiting and peeked after ready ones",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        for (let i = 0; i < 3; i++) await jobs.enqueue(`g${i}`, { group: "G" });
        await jobs.enqueue("solo");
        assertEquals(await jobs.counts(), {
          ready: 2,
          delayed: 0,
          waiting: 2,
          running: 0,
          dead: 0,
        });
        const peeked = await jobs.peek({ limit: 10 });
        assertEquals(peeked.map((m) => [m.value, m.state, m.seq]), [
          ["g0", "ready", 1],
          ["solo", "ready", null],
          ["g1", "waiting", 2],
          ["g2", "waiting", 3],
        ]);
      }),
  },
  {
    name:
      "queue groups: after a waiting message is cancelled, the group skips it and goes on in order",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        const ids = [];
        for (let i = 1; i <= 4; i++) {
          ids.push((await jobs.enqueue(`h${i}`, { group: "h" })).id);
        }
        assertIs(await jobs.cancel(ids[1]), true);
        const order: unknown[] = [];
        jobs.listen((v: unknown) => {
          order.push(v);
        });
        await sleepUntil(() => order.length === 3, 3000, "three deliveries");
        assertEquals(order, ["h1", "h3", "h4"]);
        await sleep(50);
        assertEquals(await jobs.counts(), NO_COUNTS);
      }),
  },
  {
    name:
      "queue groups: a group's next messages are handed on in the handler's slot (concurrency holds), at most 16 in a row before another group's head",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        const order: string[] = [];
        let running = 0;
        let most = 0;
        for (let i = 0; i < 40; i++) {
          await jobs.enqueue(`long${i}`, { group: "long" });
        }
        await jobs.enqueue("other", { group: "other" });
        jobs.listen(async (v: string) => {
          most = Math.max(most, ++running);
          order.push(v);
          await sleep(1);
          running--;
        }, { concurrency: 1 });
        await sleepUntil(() => order.length === 41, 8000, "41 deliveries");
        assertIs(most, 1, "handlers at once with concurrency 1");
        assertEquals(
          order.filter((v) => v !== "other"),
          Array.from({ length: 40 }, (_, i) => `long${i}`),
        );
        // The head, then 16 handed on; the 18th is ready again, behind
        // the other group's older head.
        const at = order.indexOf("other");
        assert(at > 0 && at <= 17, `the other group waited until ${at}`);
        await sleep(50);
        assertEquals(await jobs.counts(), NO_COUNTS);
      }),
  },
];
