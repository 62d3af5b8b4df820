/**
 * Managing named queues: counts by state, peek, cancel (a ready message,
 * a group head with its group moving on, a waiting one), dead letters,
 * redrive, purge, stats and the list of queues.
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
import { NO_COUNTS, recordNamed, withNamed } from "./queues.helpers.ts";

export const cases: Case[] = [
  {
    name:
      "queue.counts, peek and stats: every state counted, the next messages shown, rates and lag",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs", { maxAttempts: 1 });
        const stop = new AbortController();
        let release!: () => void;
        const held = new Promise<void>((r) => release = r);
        await jobs.enqueue("dead");
        jobs.listen(async (v: string) => {
          if (v === "dead") throw new Error("no (expected)");
          await held;
        }, { signal: stop.signal, concurrency: 1 });
        await sleepUntil(
          async () => (await jobs.counts()).dead === 1,
          3000,
          "dead",
        );
        await jobs.enqueue("running");
        await sleepUntil(
          async () => (await jobs.counts()).running === 1,
          3000,
          "running",
        );
        stop.abort();
        await jobs.enqueue("ready");
        await jobs.enqueue("later", { delay: 60_000 });
        await jobs.enqueue("g1", { group: "g" });
        await jobs.enqueue("g2", { group: "g" });
        assertEquals(await jobs.counts(), {
          ready: 2,
          delayed: 1,
          waiting: 1,
          running: 1,
          dead: 1,
        });
        const peeked = await jobs.peek({ limit: 3 });
        assertEquals(peeked.map((m) => [m.value, m.state]), [
          ["ready", "ready"],
          ["g1", "ready"],
          ["later", "delayed"],
        ]);
        assertIs(peeked[0].attempts, 0);
        assert(peeked[0].enqueuedAt instanceof Date, "enqueuedAt");
        const stats = await jobs.stats({ intervalMs: 50 });
        assertEquals(stats.counts, await jobs.counts());
        assertEquals(stats.totals, {
          enqueued: 6,
          acked: 0,
          retried: 0,
          dead: 1,
        });
        assert((stats.lagMs as number) >= 0, "lag");
        release();
      }),
  },
  {
    name:
      "queue.cancel: a ready message is deleted; a group head's cancel lets its group go on; running or unknown ids give false",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        const a = await jobs.enqueue("a");
        const g1 = await jobs.enqueue("g1", { group: "g" });
        const g2 = await jobs.enqueue("g2", { group: "g" });
        const g3 = await jobs.enqueue("g3", { group: "g" });
        assertIs(await jobs.cancel(a.id), true);
        assertIs(await jobs.cancel(a.id), false, "again");
        assertIs(await jobs.cancel(g3.id), true, "a waiting message");
        assertIs(await jobs.cancel(g1.id), true, "the head");
        assertEquals((await jobs.peek()).map((m) => [m.value, m.state]), [[
          "g2",
          "ready",
        ]]);
        assertIs(await jobs.cancel("0".repeat(32)), false);
        const r = recordNamed(jobs);
        await sleepUntil(() => r.got.length === 1, 3000, "g2");
        assertIs(r.got[0].info.id, g2.id);
        await sleep(50);
        assertEquals(await jobs.counts(), NO_COUNTS);
      }),
  },
  {
    name:
      "queue.redrive: dead letters go back under their ids, attempts from zero; purge deletes pending and dead",
    run: (t) =>
      withNamed(t, async ({ q, kv, api }) => {
        // deduplicate: a redrive within the window is not a duplicate.
        const jobs = q("jobs", { maxAttempts: 1, deduplicate: true });
        let fail = true;
        const seen: { v: unknown; attempt: number; id: string }[] = [];
        jobs.listen((v: unknown, info: { attempt: number; id: string }) => {
          seen.push({ v, attempt: info.attempt, id: info.id });
          if (fail) throw new Error("down (expected)");
        });
        const x = await jobs.enqueue("x");
        await jobs.enqueue("y");
        await sleepUntil(
          async () => (await jobs.counts()).dead === 2,
          3000,
          "two dead",
        );
        fail = false;
        assertIs(await jobs.redrive([x.id]), 1);
        await sleepUntil(
          () =>
            seen.some((s) =>
              s.v === "x" && s.id === x.id && seen.indexOf(s) >= 2
            ),
          3000,
          "x again",
        );
        assertIs((await jobs.counts()).dead, 1);
        assertIs(seen[seen.length - 1].attempt, 1);
        jobs.close();
        const other = q("other");
        await other.enqueue(1);
        await other.enqueue(2, { group: "g" });
        await other.enqueue(3, { group: "g" });
        assertIs(await other.purge(), 3);
        assertEquals(await other.counts(), {
          ready: 0,
          delayed: 0,
          waiting: 0,
          running: 0,
          dead: 0,
        });
        assertIs(await jobs.purge({ dead: true }), 1);
        assertEquals((await jobs.counts()).dead, 0);
        assertEquals((await api.listQueues(kv)).sort(), ["jobs", "other"]);
      }),
  },
  {
    name:
      "queue.counts, peek, deadLetters and stats of a queue never used write nothing: it is not listed",
    run: (t) =>
      withNamed(t, async ({ q, kv, api }) => {
        const ghost = q("ghost");
        assertEquals(await ghost.counts(), NO_COUNTS);
        assertEquals(await ghost.peek(), []);
        assertEquals(await ghost.deadLetters(), []);
        await ghost.stats({ intervalMs: 0 });
        assertEquals(await api.listQueues(kv), []);
        await q("real").enqueue(1);
        assertEquals(await api.listQueues(kv), ["real"]);
      }),
  },
];
