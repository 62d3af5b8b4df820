/**
 * kv.watch (spec 6): initial emission, changes, raw mode, coalescing, closing.
 *
 * @module
 */

import {
  assertEquals,
  assertIs,
  assertThrows,
  chunkWithin,
  closeQuietly,
  nextChunk,
  sleep,
  within,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name:
      "kv.watch: the first chunk is the current state, one entry per key in input order",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.set(["b"], "B");
        const reader = kv.watch([["a"], ["b"], ["a"]]).getReader();
        const first = await nextChunk(reader);
        assertEquals(first, [
          { key: ["a"], value: null, versionstamp: null },
          { key: ["b"], value: "B", versionstamp: res.versionstamp },
          { key: ["a"], value: null, versionstamp: null },
        ]);
        await reader.cancel();
      }),
  },
  {
    name:
      "kv.watch: a write to a watched key produces a new chunk with the new entry",
    run: (t) =>
      withKv(t, async (kv) => {
        const reader = kv.watch([["a"], ["b"]]).getReader();
        await nextChunk(reader);
        const res = await kv.set(["a"], 1);
        const chunk = await nextChunk(reader);
        assertEquals(chunk[0], {
          key: ["a"],
          value: 1,
          versionstamp: res.versionstamp,
        });
        assertEquals(chunk[1], { key: ["b"], value: null, versionstamp: null });
        await kv.delete(["a"]);
        assertEquals((await nextChunk(reader))[0], {
          key: ["a"],
          value: null,
          versionstamp: null,
        });
        await reader.cancel();
      }),
  },
  {
    name: "kv.watch: a sum wakes the watcher",
    run: (t) =>
      withKv(t, async (kv) => {
        const reader = kv.watch([["n"]]).getReader();
        await nextChunk(reader);
        await kv.atomic().sum(["n"], 2n).commit();
        assertIs((await nextChunk(reader))[0].value?.valueOf(), 2n);
        await reader.cancel();
      }),
  },
  {
    name:
      "kv.watch: writes to other keys and check-only commits produce no chunk",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["a"], 0);
        const reader = kv.watch([["a"]]).getReader();
        await nextChunk(reader);
        await kv.set(["other"], 1);
        await kv.atomic().check({ key: ["a"], versionstamp: null }).commit();
        const a = await kv.get(["a"]);
        await kv.atomic().check(a).set(["other"], 2).commit();
        assertIs(await chunkWithin(reader, 300), null, "unexpected chunk");
        await reader.cancel();
      }),
  },
  {
    name:
      "kv.watch: setting the same value again produces a chunk (new versionstamp)",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["a"], 1);
        const reader = kv.watch([["a"]]).getReader();
        await nextChunk(reader);
        const res = await kv.set(["a"], 1);
        assertIs((await nextChunk(reader))[0].versionstamp, res.versionstamp);
        await reader.cancel();
      }),
  },
  {
    name: "kv.watch: deleting an absent key produces no chunk by default",
    run: (t) =>
      withKv(t, async (kv) => {
        const reader = kv.watch([["a"]]).getReader();
        await nextChunk(reader);
        await kv.delete(["a"]);
        assertIs(await chunkWithin(reader, 300), null, "unexpected chunk");
        await reader.cancel();
      }),
  },
  {
    name: "kv.watch: with raw: true deleting an absent key produces a chunk",
    run: (t) =>
      withKv(t, async (kv) => {
        const reader = kv.watch([["a"]], { raw: true }).getReader();
        await nextChunk(reader);
        await kv.delete(["a"]);
        assertEquals(await nextChunk(reader), [{
          key: ["a"],
          value: null,
          versionstamp: null,
        }]);
        await reader.cancel();
      }),
  },
  {
    name:
      "kv.watch: changes made while not reading coalesce into the latest state",
    run: (t) =>
      withKv(t, async (kv) => {
        const reader = kv.watch([["a"]]).getReader();
        await nextChunk(reader);
        await Promise.all([
          kv.set(["a"], 1),
          kv.set(["a"], 2),
          kv.set(["a"], 3),
        ]);
        await sleep(50);
        const chunk = await nextChunk(reader);
        const latest = await kv.get(["a"]);
        assertEquals(chunk[0], latest, "coalesced chunk");
        assertIs(await chunkWithin(reader, 200), null, "no further chunk");
        await reader.cancel();
      }),
  },
  {
    name: "kv.watch: with no keys the stream is already done",
    run: (t) =>
      withKv(t, async (kv) => {
        const reader = kv.watch([]).getReader();
        const r = await within(reader.read(), 2000, "timeout" as const);
        assertEquals(r, { done: true, value: undefined });
      }),
  },
  {
    name:
      "kv.watch: a non-array argument or key throws the serde error synchronously",
    run: (t) =>
      withKv(t, (kv) => {
        const msg = "serde_v8 error: invalid type; expected: array, got: ";
        assertThrows(() => kv.watch("a"), TypeError, msg + "string");
        assertThrows(() => kv.watch(null), TypeError, msg + "null");
        assertThrows(() => kv.watch([1]), TypeError, msg + "Number");
        return Promise.resolve();
      }),
  },
  {
    name: "kv.watch: reader.cancel() ends the stream",
    run: (t) =>
      withKv(t, async (kv) => {
        const stream = kv.watch([["a"]]);
        const reader = stream.getReader();
        await nextChunk(reader);
        await reader.cancel();
        assertEquals(await reader.read(), { done: true, value: undefined });
      }),
  },
  {
    name: "kv.watch: close() ends a pending read gracefully",
    run: (t) =>
      withKv(t, async (kv) => {
        const reader = kv.watch([["a"]]).getReader();
        await nextChunk(reader);
        const pending = reader.read();
        await sleep(20);
        closeQuietly(kv);
        const r = await within(pending, 3000, "timeout" as const);
        assertEquals(r, { done: true, value: undefined });
      }),
  },
  {
    name: "kv.watch: a second handle on the same file sees the write",
    run: (t) => {
      const path = t.tempPath();
      return withKv(t, async (kv) => {
        const reader = kv.watch([["a"]]).getReader();
        await nextChunk(reader);
        await withKv(
          t,
          (other) => other.set(["a"], "from the other handle"),
          path,
        );
        assertIs((await nextChunk(reader))[0].value, "from the other handle");
        await reader.cancel();
      }, path);
    },
  },
];
