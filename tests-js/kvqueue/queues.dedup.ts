/**
 * Deduplication in one process: a duplicate enqueue returns the first
 * message's id and adds nothing; `deduplicate: true` uses a hash of the
 * payload; the window ends. The 4-process case is in queues.processes.ts.
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
import { recordNamed, withNamed } from "./queues.helpers.ts";

export const cases: Case[] = [
  {
    name:
      "queue dedup: an enqueue with a dedupId seen in the window returns the first id and adds nothing",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        const first = await jobs.enqueue("a", { dedupId: "order-1" });
        const again = await jobs.enqueue("b", { dedupId: "order-1" });
        const other = await jobs.enqueue("a", { dedupId: "order-2" });
        const plain = await jobs.enqueue("a");
        assertIs(first.duplicate, false);
        assertIs(again.duplicate, true);
        assertIs(again.id, first.id);
        assertIs(again.versionstamp, first.versionstamp);
        assert(other.id !== first.id && plain.id !== first.id, "new ids");
        const same = await Promise.all(
          [1, 2, 3, 4, 5].map((n) => jobs.enqueue(n, { dedupId: "burst" })),
        );
        assertIs(new Set(same.map((r) => r.id)).size, 1, "ids of a burst");
        assertIs(same.filter((r) => !r.duplicate).length, 1, "firsts");
        const r = recordNamed(jobs);
        await sleepUntil(() => r.got.length === 4, 3000, "four deliveries");
        await sleep(100);
        assertIs(r.got.length, 4);
      }),
  },
  {
    name:
      "queue dedup: deduplicate: true uses a hash of the payload; the window ends after dedupWindowMs",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs", { deduplicate: true, dedupWindowMs: 300 });
        const a = await jobs.enqueue({ to: "ada" });
        const b = await jobs.enqueue({ to: "ada" });
        const c = await jobs.enqueue({ to: "bob" });
        assertIs(b.duplicate, true);
        assertIs(b.id, a.id);
        assertIs(c.duplicate, false);
        await sleep(350);
        const d = await jobs.enqueue({ to: "ada" });
        assertIs(d.duplicate, false, "after the window");
        assert(d.id !== a.id, "a new id after the window");
        assertEquals((await jobs.counts()).ready, 3);
      }),
  },
  {
    name: "queue dedup: with groups, a duplicate takes no sequence number",
    run: (t) =>
      withNamed(t, async ({ q }) => {
        const jobs = q("jobs");
        await jobs.enqueue(1, { group: "g", dedupId: "x" });
        await jobs.enqueue(1, { group: "g", dedupId: "x" });
        await jobs.enqueue(2, { group: "g" });
        const peeked = await jobs.peek();
        assertEquals(peeked.map((m) => [m.value, m.seq]), [[1, 1], [2, 2]]);
      }),
  },
];
