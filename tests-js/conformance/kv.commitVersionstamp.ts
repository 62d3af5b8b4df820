/**
 * kv.commitVersionstamp() (spec 4.9): the key-suffix symbol.
 *
 * @module
 */

import {
  assertEquals,
  assertIs,
  assertRejects,
  assertThrows,
  closeQuietly,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

const BAD_PART = "expected string, number, bigint, ArrayBufferView, boolean";

export const cases: Case[] = [
  {
    name:
      "kv.commitVersionstamp: returns the same symbol every time, described KvCommitVersionstamp",
    run: (t) =>
      withKv(t, (kv) => {
        const sym = kv.commitVersionstamp();
        assertIs(typeof sym, "symbol");
        assertIs(kv.commitVersionstamp(), sym, "same symbol");
        assertIs(sym.description, "KvCommitVersionstamp");
        return Promise.resolve();
      }),
  },
  {
    name: "kv.commitVersionstamp: still works after close",
    run: async (t) => {
      const kv = await t.openKv(t.tempPath());
      const sym = kv.commitVersionstamp();
      closeQuietly(kv);
      assertIs(kv.commitVersionstamp(), sym);
    },
  },
  {
    name:
      "kv.set: a key ending in the symbol is stored with the commit versionstamp as last part",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.set(["vs", kv.commitVersionstamp()], "v");
        const got = await kv.get(["vs", res.versionstamp]);
        assertIs(got.value, "v");
        assertEquals(got.key, ["vs", res.versionstamp]);
      }),
  },
  {
    name:
      "atomic.set: the symbol suffix works in atomic().set and mutate set, sharing one versionstamp",
    run: (t) =>
      withKv(t, async (kv) => {
        const sym = kv.commitVersionstamp();
        const res = await kv.atomic()
          .set(["x", sym], 1)
          .mutate({ type: "set", key: ["y", sym], value: 2 })
          .commit();
        assertIs((await kv.get(["x", res.versionstamp])).value, 1);
        assertIs((await kv.get(["y", res.versionstamp])).value, 2);
      }),
  },
  {
    name:
      "kv.commitVersionstamp: the symbol anywhere but last, or in reads and deletes, is a bad key part",
    run: (t) =>
      withKv(t, async (kv) => {
        const sym = kv.commitVersionstamp();
        await assertRejects(() => kv.set([sym, "x"], 1), TypeError, BAD_PART);
        await assertRejects(() => kv.get(["x", sym]), TypeError, BAD_PART);
        await assertRejects(() => kv.delete(["x", sym]), TypeError, BAD_PART);
        await assertRejects(
          () =>
            kv.atomic().check({ key: ["x", sym], versionstamp: null }).commit(),
          TypeError,
          BAD_PART,
        );
        assertThrows(() => kv.watch([["x", sym]]), TypeError, BAD_PART);
      }),
  },
  {
    name: "kv.commitVersionstamp: the symbol alone is an empty key",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertRejects(
            () => kv.set([kv.commitVersionstamp()], 1),
            TypeError,
            "key cannot be empty",
          ),
      ),
  },
];
