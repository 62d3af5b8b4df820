/**
 * kv.delete (spec 4.2).
 *
 * @module
 */

import { assertIs, withKv } from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name: "kv.delete: removes the key and resolves to undefined",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["a"], 1);
        assertIs(await kv.delete(["a"]), undefined);
        assertIs((await kv.get(["a"])).versionstamp, null);
      }),
  },
  {
    name: "kv.delete: deleting a missing key resolves to undefined",
    run: (t) =>
      withKv(t, async (kv) => assertIs(await kv.delete(["nope"]), undefined)),
  },
];
