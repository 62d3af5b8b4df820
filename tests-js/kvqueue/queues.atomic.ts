/**
 * A named-queue enqueue inside the caller's atomic operation
 * (`queue.enqueueIn(kv.atomic(), value)`): stored and delivered if and
 * only if the operation commits; its group and dedup reads are checked in
 * the operation.
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
import type { Case } from "../harness/types.ts";
import type { NamedQueueLike } from "./flavours.ts";
import { NO_COUNTS, recordNamed, withNamed } from "./queues.helpers.ts";

/**
 * Listens on `jobs` until `n` messages came, waits a little for any more,
 * and returns each delivery's value and group sequence number, in order.
 */
async function deliveredInOrder(
  jobs: NamedQueueLike,
  n: number,
): Promise<unknown[][]> {
  const r = recordNamed(jobs);
  await sleepUntil(() => r.got.length === n, 3000, `${n} deliveries`);
  await sleep(100);
  return r.got.map((g) => [g.value, g.info.seq]);
}

export const cases: Case[] = [
  {
    name:
      "queue enqueueIn: the message commits with the caller's writes, and is delivered under the id it returned",
    run: (t) =>
      withNamed(t, async ({ kv, q }) => {
        const jobs = q("jobs");
        const op = kv.atomic().check({ key: ["order", 7], versionstamp: null })
          .set(["order", 7], { total: 12 });
        const { id, duplicate } = await jobs.enqueueIn(op, { order: 7 });
        assertIs(duplicate, false);
        assertEquals((await jobs.counts()).ready, 0, "nothing before commit");
        const committed = await op.commit();
        assertIs(committed.ok, true);
        assertEquals((await kv.get(["order", 7])).value, { total: 12 });
        const r = recordNamed(jobs);
        await sleepUntil(() => r.got.length === 1, 3000, "the delivery");
        assertEquals(r.got[0].value, { order: 7 });
        assertIs(r.got[0].info.id, id);
      }),
  },
  {
    name: "queue enqueueIn: an operation whose check fails stores no message",
    run: (t) =>
      withNamed(t, async ({ kv, q }) => {
        const jobs = q("jobs");
        await kv.set(["order", 7], "taken");
        const op = kv.atomic().check({ key: ["order", 7], versionstamp: null })
          .set(["order", 7], "mine");
        await jobs.enqueueIn(op, { order: 7 }, { group: "g" });
        assertIs((await op.commit()).ok, false);
        assertEquals(await jobs.counts(), NO_COUNTS);
        // The group took no sequence number: the next message is its first.
        await jobs.enqueue(1, { group: "g" });
        assertEquals(await deliveredInOrder(jobs, 1), [[1, 1]]);
      }),
  },
  {
    name:
      "queue enqueueIn: groups keep their order in commit order; kept as keys, an enqueue on the group before the commit fails it",
    run: (t) =>
      withNamed(t, async ({ kv, q }) => {
        const jobs = q("jobs");
        // Kept in the engine, commits are serialised there: b commits
        // after "second" and takes the next number. Kept as keys, b read
        // the group's state, which "second" moved: b fails its check.
        const engine = (await jobs.storedIn()) === "engine";
        const a = kv.atomic();
        await jobs.enqueueIn(a, "first", { group: "g" });
        assertIs((await a.commit()).ok, true);
        const b = kv.atomic();
        await jobs.enqueueIn(b, "b", { group: "g" });
        await jobs.enqueue("second", { group: "g" });
        assertIs((await b.commit()).ok, engine, "b's commit");
        const c = kv.atomic();
        await jobs.enqueueIn(c, "third", { group: "g" });
        assertIs((await c.commit()).ok, true);
        const expected = engine
          ? [["first", 1], ["second", 2], ["b", 3], ["third", 4]]
          : [["first", 1], ["second", 2], ["third", 3]];
        assertEquals(
          await deliveredInOrder(jobs, expected.length),
          expected,
        );
      }),
  },
  {
    name:
      "queue enqueueIn: several messages of one group in one operation keep their order; a repeated dedup id in it is a duplicate",
    run: (t) =>
      withNamed(t, async ({ kv, q }) => {
        const jobs = q("jobs");
        const op = kv.atomic();
        const a = await jobs.enqueueIn(op, "a", { group: "g" });
        const b = await jobs.enqueueIn(op, "b", { group: "g" });
        // Not awaited one by one: they still follow each other.
        const [c, d, e] = await Promise.all([
          jobs.enqueueIn(op, "c", { group: "g" }),
          jobs.enqueueIn(op, "d", { group: "g", dedupId: "x" }),
          jobs.enqueueIn(op, "e", { group: "g", dedupId: "x" }),
        ]);
        assertIs(e.duplicate, true);
        assertIs(e.id, d.id);
        assertIs(new Set([a.id, b.id, c.id, d.id]).size, 4, "distinct ids");
        assertIs((await op.commit()).ok, true);
        assertEquals(await deliveredInOrder(jobs, 4), [
          ["a", 1],
          ["b", 2],
          ["c", 3],
          ["d", 4],
        ]);
      }),
  },
  {
    name:
      "queue enqueueIn: a dedup id already taken adds nothing and returns the first id; the caller's writes still commit",
    run: (t) =>
      withNamed(t, async ({ kv, q }) => {
        const jobs = q("jobs");
        const first = await jobs.enqueue("a", { dedupId: "order-1" });
        const op = kv.atomic().set(["seen"], true);
        const again = await jobs.enqueueIn(op, "b", { dedupId: "order-1" });
        assertIs(again.duplicate, true);
        assertIs(again.id, first.id);
        assertIs((await op.commit()).ok, true);
        assertIs((await kv.get(["seen"])).value, true);
        // Two operations that both read the id as free: one commits.
        const x = kv.atomic();
        const y = kv.atomic();
        const ex = await jobs.enqueueIn(x, "x", { dedupId: "order-2" });
        const ey = await jobs.enqueueIn(y, "y", { dedupId: "order-2" });
        assert(!ex.duplicate && !ey.duplicate, "both saw it free");
        assertEquals(
          [(await x.commit()).ok, (await y.commit()).ok],
          [true, false],
        );
        assertEquals((await jobs.counts()).ready, 2);
      }),
  },
  {
    name:
      "queue enqueueIn: on a closed store a grouped message rejects (kept in the engine, any message), and the commit does; nothing is stored",
    run: (t) =>
      withNamed(t, async ({ kv, q }) => {
        const jobs = q("jobs");
        const engine = (await jobs.storedIn()) === "engine";
        const op = kv.atomic();
        kv.close();
        const BadResource = t.BadResource!;
        await assertRejects(
          () => jobs.enqueueIn(op, 1, { group: "g" }),
          BadResource,
          "Bad resource ID",
        );
        if (engine) {
          // Kept in the engine, every enqueueIn looks at the store first.
          await assertRejects(
            () => jobs.enqueueIn(op, 2),
            BadResource,
            "Bad resource ID",
          );
        } else {
          await jobs.enqueueIn(op, 2);
        }
        await assertRejects(() => op.commit(), BadResource, "Bad resource ID");
      }),
  },
  {
    name:
      "queue enqueueIn: an atomic that is not an atomic operation, a bad option or a payload too large throws TypeError",
    run: (t) =>
      withNamed(t, async ({ kv, q }) => {
        const jobs = q("jobs");
        await assertRejects(
          () => jobs.enqueueIn({}, 1),
          TypeError,
          "enqueueIn: atomic must be an atomic operation (kv.atomic()): received an object",
        );
        await assertRejects(
          () => jobs.enqueueIn(kv.atomic(), 1, { group: 3 }),
          TypeError,
          "enqueue: group must be a non-empty string of at most 256 characters: received 3",
        );
        await assertRejects(
          () => jobs.enqueueIn(kv.atomic(), "x".repeat(70000)),
          TypeError,
          "enqueue payload too large (max 65536 bytes)",
        );
        if ((await jobs.storedIn()) === "engine") {
          // Shaped like an operation, but not kvq's: it would never carry
          // the message.
          const other = {
            check() {},
            set() {},
            delete() {},
            sum() {},
            commit: () => Promise.resolve({ ok: true }),
          };
          await assertRejects(
            () => jobs.enqueueIn(other, 1),
            TypeError,
            "enqueueIn: atomic must be an atomic operation of kvq's Kv (kv.atomic()) for a queue its engine keeps: received an object",
          );
        }
      }),
  },
];
