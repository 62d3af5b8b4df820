/**
 * close() and [Symbol.dispose]() (spec 7.2): what throws, what rejects, and
 * what still works after close.
 *
 * @module
 */

import {
  assert,
  assertIs,
  assertRejects,
  assertThrows,
} from "../harness/helpers.ts";
import type { Case, ErrorClass, KvLike, Target } from "../harness/types.ts";

const BAD = "Bad resource ID";

/** The target's BadResource class; every target must provide one. */
function badResource(t: Target): ErrorClass {
  if (!t.BadResource) {
    throw new Error(`target ${t.name} has no BadResource class`);
  }
  return t.BadResource;
}

/** Opens a fresh file database and closes it. */
async function closed(t: Target): Promise<KvLike> {
  const kv = await t.openKv(t.tempPath());
  kv.close();
  return kv;
}

export const cases: Case[] = [
  {
    name: "kv.close: a second close() throws BadResource synchronously",
    run: async (t) => {
      const kv = await closed(t);
      assertThrows(() => kv.close(), badResource(t), BAD);
    },
  },
  {
    name:
      "kv.close: BadResource has the name BadResource and the message Bad resource ID",
    run: async (t) => {
      const kv = await closed(t);
      try {
        kv.close();
      } catch (e) {
        assert(e instanceof Error, "expected an Error");
        assertIs(e.name, "BadResource");
        assertIs(e.message, BAD);
        return;
      }
      throw new Error("expected a throw");
    },
  },
  {
    name:
      "kv.close: get, getMany, set, delete and enqueue after close reject with BadResource",
    run: async (t) => {
      const kv = await closed(t);
      const cls = badResource(t);
      await assertRejects(() => kv.get(["a"]), cls, BAD);
      await assertRejects(() => kv.getMany([["a"]]), cls, BAD);
      await assertRejects(() => kv.set(["a"], 1), cls, BAD);
      await assertRejects(() => kv.delete(["a"]), cls, BAD);
      await assertRejects(() => kv.enqueue("m"), cls, BAD);
    },
  },
  {
    name:
      "kv.close: atomic() and list() still return objects; commit and next() reject",
    run: async (t) => {
      const kv = await closed(t);
      const cls = badResource(t);
      const op = kv.atomic();
      await assertRejects(() => op.commit(), cls, BAD);
      await assertRejects(() => kv.atomic().set(["a"], 1).commit(), cls, BAD);
      const it = kv.list({ prefix: [] });
      await assertRejects(() => it.next(), cls, BAD);
    },
  },
  {
    name:
      "kv.close: an iterator created before close rejects on next() after it",
    run: async (t) => {
      const kv = await t.openKv(t.tempPath());
      await kv.set(["a"], 1);
      const it = kv.list({ prefix: [] });
      kv.close();
      await assertRejects(() => it.next(), badResource(t), BAD);
    },
  },
  {
    name: "kv.close: watch() after close throws BadResource synchronously",
    run: async (t) => {
      const kv = await closed(t);
      assertThrows(() => kv.watch([["a"]]), badResource(t), BAD);
    },
  },
  {
    name:
      "kv.close: [Symbol.dispose]() closes and never throws, also when already closed",
    run: async (t) => {
      const kv = await t.openKv(t.tempPath());
      kv[Symbol.dispose]();
      kv[Symbol.dispose]();
      await assertRejects(() => kv.get(["a"]), badResource(t), BAD);
      assertThrows(() => kv.close(), badResource(t), BAD);
    },
  },
  {
    name: "kv.close: data written before close is there after reopening",
    run: async (t) => {
      const path = t.tempPath();
      const kv = await t.openKv(path);
      await kv.set(["a"], "kept");
      kv.close();
      const again = await t.openKv(path);
      try {
        assertIs((await again.get(["a"])).value, "kept");
      } finally {
        again.close();
      }
    },
  },
];
