/**
 * atomic().commit (spec 4.4, 4.5): result shape, the then() trap, committing
 * twice, and one versionstamp per commit.
 *
 * @module
 */

import {
  assertEquals,
  assertIs,
  assertRejects,
  assertThrows,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name:
      "atomic.commit: awaiting the builder itself rejects with the then() reminder",
    run: (t) =>
      withKv(t, async (kv) => {
        const op = kv.atomic().set(["a"], 1);
        const msg =
          "'Deno.AtomicOperation' is not a promise: did you forget to call 'commit()'";
        assertThrows(
          () => (op as unknown as PromiseLike<unknown>).then(() => {}),
          TypeError,
          msg,
        );
        await assertRejects(
          async () => await (op as unknown as Promise<unknown>),
          TypeError,
          msg,
        );
        assertIs((await kv.get(["a"])).versionstamp, null, "nothing written");
      }),
  },
  {
    name:
      "atomic.commit: mutations and the set's versionstamp are shared by every key",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.atomic().set(["a"], 1).set(["b"], 2).sum(["c"], 1n)
          .commit();
        const got = await kv.getMany([["a"], ["b"], ["c"]]);
        assertEquals(got.map((e) => e.versionstamp), [
          res.versionstamp,
          res.versionstamp,
          res.versionstamp,
        ]);
      }),
  },
  {
    name: "atomic.commit: a builder can be committed twice and applies twice",
    run: (t) =>
      withKv(t, async (kv) => {
        const op = kv.atomic().sum(["cnt"], 1n);
        await op.commit();
        await op.commit();
        assertIs((await kv.get(["cnt"])).value?.valueOf(), 2n);
      }),
  },
  {
    name: "atomic.commit: an empty atomic commits with a versionstamp",
    run: (t) =>
      withKv(t, async (kv) => {
        const res = await kv.atomic().commit();
        assertEquals(Object.keys(res), ["ok", "versionstamp"]);
        assertIs(res.ok, true);
      }),
  },
];
