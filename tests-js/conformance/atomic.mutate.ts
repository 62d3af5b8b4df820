/**
 * atomic().mutate (spec 4.4, 4.5): validation at builder time and the order
 * in which mutations apply.
 *
 * @module
 */

import { assertIs, assertThrows, withKv } from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name: "atomic.mutate: set, delete, sum, min and max apply in order",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.atomic().mutate(
          { type: "set", key: ["s"], value: "x" },
          { type: "delete", key: ["gone"] },
          { type: "sum", key: ["n"], value: new t.KvU64(5n) },
          { type: "max", key: ["n"], value: new t.KvU64(9n) },
          { type: "min", key: ["n"], value: new t.KvU64(7n) },
        ).commit();
        assertIs((await kv.get(["s"])).value, "x");
        assertIs((await kv.get(["n"])).value?.valueOf(), 7n);
      }),
  },
  {
    name:
      "atomic.mutate: delete with a truthy value throws synchronously; a falsy one is accepted",
    run: (t) =>
      withKv(t, async (kv) => {
        assertThrows(
          () => kv.atomic().mutate({ type: "delete", key: ["a"], value: 1 }),
          TypeError,
          "Invalid mutation 'delete' with value",
        );
        await kv.atomic().mutate({ type: "delete", key: ["a"], value: 0 })
          .commit();
      }),
  },
  {
    name:
      "atomic.mutate: set, sum, min and max without a value throw synchronously",
    run: (t) =>
      withKv(t, (kv) => {
        for (const type of ["set", "sum", "min", "max"]) {
          assertThrows(
            () => kv.atomic().mutate({ type, key: ["a"] }),
            TypeError,
            `Invalid mutation '${type}' without value`,
          );
        }
        return Promise.resolve();
      }),
  },
  {
    name: "atomic.mutate: an explicit value undefined stores undefined",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.atomic().mutate({ type: "set", key: ["u"], value: undefined })
          .commit();
        const got = await kv.get(["u"]);
        assertIs(got.value, undefined);
        assertIs(typeof got.versionstamp, "string");
      }),
  },
  {
    name: "atomic.mutate: an unknown mutation type throws synchronously",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          Promise.resolve(assertThrows(
            () => kv.atomic().mutate({ type: "bogus", key: ["a"], value: 1 }),
            TypeError,
            "Invalid mutation type",
          )),
      ),
  },
  {
    name:
      "atomic.mutate: set then delete of one key leaves it deleted; delete then set leaves the value",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.atomic().set(["a"], 1).delete(["a"]).commit();
        assertIs((await kv.get(["a"])).versionstamp, null);
        await kv.atomic().delete(["b"]).set(["b"], 2).commit();
        assertIs((await kv.get(["b"])).value, 2);
      }),
  },
  {
    name: "atomic.sum: delete then two sums of one key gives their sum",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["n"], new t.KvU64(100n));
        await kv.atomic().delete(["n"]).sum(["n"], 1n).sum(["n"], 2n).commit();
        assertIs((await kv.get(["n"])).value?.valueOf(), 3n);
      }),
  },
];
