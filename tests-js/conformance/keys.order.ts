/**
 * Key ordering (spec 1.3): the full observed order across and within types,
 * multi-part keys, and reverse listing.
 *
 * @module
 */

import { assertEquals, listKeys, setAll, withKv } from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";
import { KEY_ORDER } from "../fixtures/key_order.ts";

/** The full order observed on Deno 2.9.6, smallest first (spec 1.3). */
const ORDER = KEY_ORDER as unknown[][];

/** Fisher-Yates with a fixed seed, so that insertion order is not sorted. */
function shuffled<T>(xs: T[]): T[] {
  const out = [...xs];
  let seed = 42;
  for (let i = out.length - 1; i > 0; i--) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const cases: Case[] = [
  {
    name:
      "keys: list returns the full cross-type order bytes < string < bigint < number < false < true",
    run: (t) =>
      withKv(t, async (kv) => {
        await setAll(kv, shuffled(ORDER));
        assertEquals(await listKeys(kv, { prefix: [] }), ORDER);
      }),
  },
  {
    name: "keys: reverse list returns the full order descending",
    run: (t) =>
      withKv(t, async (kv) => {
        await setAll(kv, shuffled(ORDER));
        assertEquals(
          await listKeys(kv, { prefix: [] }, { reverse: true }),
          [...ORDER].reverse(),
        );
      }),
  },
  {
    name:
      "keys: bigints sort numerically across the one-byte and long encodings",
    run: (t) =>
      withKv(t, async (kv) => {
        const ns = [
          -(2n ** 100n),
          -(2n ** 64n),
          -256n,
          -255n,
          -1n,
          0n,
          1n,
          255n,
          256n,
          2n ** 63n,
          2n ** 64n,
          2n ** 100n,
        ];
        await setAll(kv, shuffled(ns.map((n) => [n])));
        assertEquals(await listKeys(kv, { prefix: [] }), ns.map((n) => [n]));
      }),
  },
  {
    name: "keys: numbers sort numerically, including tiny and huge magnitudes",
    run: (t) =>
      withKv(t, async (kv) => {
        const xs = [
          -Number.MAX_VALUE,
          -1e10,
          -1,
          -Number.MIN_VALUE,
          0,
          Number.MIN_VALUE,
          0.5,
          1,
          2 ** 53,
          Number.MAX_VALUE,
        ];
        await setAll(kv, shuffled(xs.map((x) => [x])));
        assertEquals(await listKeys(kv, { prefix: [] }), xs.map((x) => [x]));
      }),
  },
  {
    name:
      "keys: a shorter key sorts before any longer key it prefixes, part by part",
    run: (t) =>
      withKv(t, async (kv) => {
        const keys = [
          ["a"],
          ["a", ""],
          ["a", "b"],
          ["a", "b", 1],
          ["a", 1],
          ["a\0"],
          ["ab"],
          ["b"],
        ];
        await setAll(kv, shuffled(keys));
        assertEquals(await listKeys(kv, { start: ["a"], end: ["c"] }), keys);
      }),
  },
];
