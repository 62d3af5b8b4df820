/**
 * Read-your-writes (COMPATIBILITY.md section 1, order of operations): a read
 * issued after a write, without awaiting the write, sees that write, as on
 * Deno 2.9.6. On a file database and in memory, for get, getMany, list and
 * the first chunk of watch, after set, delete, atomic commits and enqueue.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertRejects,
  collect,
  nextChunk,
  withKv,
} from "../harness/helpers.ts";
import type { Case, KvLike, Target } from "../harness/types.ts";

/** The runs of each case: a file database, then an in-memory one. */
async function onFileAndMemory(
  t: Target,
  fn: (kv: KvLike, where: string) => Promise<void>,
): Promise<void> {
  await withKv(t, (kv) => fn(kv, "file"));
  await withKv(t, (kv) => fn(kv, "memory"), ":memory:");
}

export const cases: Case[] = [
  {
    name:
      "kv.get: after an un-awaited set, an awaited get sees it (200 times in a row)",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        const seen: unknown[] = [];
        for (let i = 0; i < 200; i++) {
          kv.set(["k"], i);
          seen.push((await kv.get(["k"])).value);
        }
        assertEquals(
          seen,
          Array.from({ length: 200 }, (_, i) => i),
          `values read (${where})`,
        );
      }),
  },
  {
    name: "kv.get: after an un-awaited delete, an awaited get finds nothing",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        for (let i = 0; i < 20; i++) {
          await kv.set(["k"], i);
          kv.delete(["k"]);
          const got = await kv.get(["k"]);
          assertIs(got.value, null, `value after delete ${i} (${where})`);
          assertIs(got.versionstamp, null, `versionstamp (${where})`);
        }
      }),
  },
  {
    name:
      "kv.getMany: after an un-awaited atomic commit, getMany sees all of its mutations",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        await kv.set(["b"], "old");
        for (let i = 0; i < 20; i++) {
          kv.atomic().set(["a"], i).delete(["b"]).sum(["c"], 1n).commit();
          const [a, b, c] = await kv.getMany([["a"], ["b"], ["c"]]);
          assertIs(a.value, i, `a (${where})`);
          assertIs(b.value, null, `b (${where})`);
          assertIs(
            (c.value as { value: bigint }).value,
            BigInt(i + 1),
            `c (${where})`,
          );
        }
      }),
  },
  {
    name: "kv.list: after un-awaited sets, list sees every one of them",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        for (let round = 0; round < 5; round++) {
          for (let i = 0; i < 10; i++) kv.set(["l", round, i], i);
          const entries = await collect(kv.list({ prefix: ["l", round] }));
          assertEquals(
            entries.map((e) => e.value),
            [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            `round ${round} (${where})`,
          );
        }
      }),
  },
  {
    name:
      "kv.list: a batch read after the first one sees a write made between them",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        await kv.set(["p", 0], 0);
        await kv.set(["p", 1], 1);
        const it = kv.list({ prefix: ["p"] }, { batchSize: 1 });
        assertIs((await it.next()).value?.value, 0, `first (${where})`);
        kv.set(["p", 1], "new");
        assertIs((await it.next()).value?.value, "new", `second (${where})`);
      }),
  },
  {
    name:
      "kv.watch: the first chunk after an un-awaited set holds the set value",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        for (let i = 0; i < 10; i++) {
          kv.set(["w"], i);
          const reader = kv.watch([["w"]]).getReader();
          const chunk = await nextChunk(reader);
          await reader.cancel();
          assertIs(chunk[0].value, i, `first chunk ${i} (${where})`);
        }
      }),
  },
  {
    name:
      "kv.getMany: after an un-awaited enqueue and sum, getMany sees the sum and no dead letter",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        // An enqueue is a write like the others: a read after it waits for
        // it, and a sum after it in the same tick is seen too.
        for (let i = 0; i < 10; i++) {
          kv.enqueue(i, { delay: 60_000, keysIfUndelivered: [["dl"]] });
          kv.atomic().sum(["n"], 1n).commit();
          const [dl, n] = await kv.getMany([["dl"], ["n"]]);
          assertIs(dl.value, null, `dead letter (${where})`);
          assertIs(
            (n.value as { value: bigint }).value,
            BigInt(i + 1),
            `counter (${where})`,
          );
        }
      }),
  },
  {
    name:
      "kv.get: reads issued in one tick after many un-awaited writes see the last one",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        const writes: Promise<unknown>[] = [];
        for (let i = 0; i < 100; i++) writes.push(kv.set(["m", i % 7], i));
        const got = await Promise.all(
          Array.from({ length: 7 }, (_, k) => kv.get(["m", k])),
        );
        const last = [98, 99, 93, 94, 95, 96, 97];
        const values = got.map((e) => e.value as number);
        if (t.isDenoNative) {
          // Deno: usually the last, but not always. Under make test's
          // load on a 2-core machine, Deno 2.9.6 answered 63 for key 0
          // (memory) once, a value written earlier to the same key: its
          // reads can overtake queued writes. kvq answers in order.
          values.forEach((v, k) =>
            assert(
              v % 7 === k && v <= last[k],
              `values (${where}): ${values}`,
            )
          );
        } else {
          assertEquals(values, last, `values (${where})`);
        }
        await Promise.all(writes);
      }),
  },
  {
    name:
      "kv.close: a get issued before close(), after an un-awaited set, rejects with 'Database is closed.'",
    run: (t) =>
      onFileAndMemory(t, async (kv, where) => {
        const set = kv.set(["k"], 1).then(
          () => "ok",
          (e: Error) => `${e.name}: ${e.message}`,
        );
        const get = kv.get(["k"]);
        kv.close();
        if (t.isDenoNative) {
          // Deno: a race (seen once in about ten runs): the get may be
          // answered before the close lands; then it sees the set.
          const got = await get.then(
            (e) => `value ${e.value}`,
            (e: Error) => `${e.name}: ${e.message}`,
          );
          assert(
            got === "value 1" || got === "TypeError: Database is closed.",
            `get (${where}): ${got}`,
          );
        } else {
          await assertRejects(() => get, TypeError, "Database is closed.");
        }
        // Deno either commits the set or rejects it; so may kvq.
        const outcome = await set;
        assert(
          outcome === "ok" || outcome === "TypeError: Database is closed.",
          `set (${where}): ${outcome}`,
        );
      }),
  },
];
