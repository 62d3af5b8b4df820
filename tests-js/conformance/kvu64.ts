/**
 * The KvU64 class (spec 2.5): constructor validation, immutability and its
 * conversions.
 *
 * @module
 */

import { assert, assertIs, assertThrows } from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

export const cases: Case[] = [
  {
    name: "KvU64: the constructor accepts 0 and 2^64-1",
    run: (t) => {
      assertIs(new t.KvU64(0n).value, 0n);
      assertIs(new t.KvU64(2n ** 64n - 1n).value, 2n ** 64n - 1n);
      return Promise.resolve();
    },
  },
  {
    name: "KvU64: a non-bigint throws TypeError naming its type",
    run: (t) => {
      assertThrows(
        () => new t.KvU64(1),
        TypeError,
        "Value must be a bigint: received number",
      );
      assertThrows(
        () => new t.KvU64("1"),
        TypeError,
        "Value must be a bigint: received string",
      );
      return Promise.resolve();
    },
  },
  {
    name: "KvU64: a negative bigint throws RangeError",
    run: (t) => {
      assertThrows(
        () => new t.KvU64(-1n),
        RangeError,
        "Value must be a positive bigint: received -1",
      );
      return Promise.resolve();
    },
  },
  {
    name: "KvU64: 2^64 throws RangeError",
    run: (t) => {
      assertThrows(
        () => new t.KvU64(2n ** 64n),
        RangeError,
        "Value must fit in a 64-bit unsigned integer",
      );
      return Promise.resolve();
    },
  },
  {
    name:
      "KvU64: the instance is frozen with one enumerable own property, value",
    run: (t) => {
      const u = new t.KvU64(5n);
      assert(Object.isFrozen(u), "expected a frozen object");
      assertIs(Object.keys(u).join(","), "value", "own keys");
      assertThrows(
        () => {
          (u as { value: bigint }).value = 6n;
        },
        TypeError,
        /read.?only|Cannot assign/,
      );
      return Promise.resolve();
    },
  },
  {
    name:
      "KvU64: valueOf gives the bigint, toString decimal, toStringTag Deno.KvU64",
    run: (t) => {
      const u = new t.KvU64(5n);
      assertIs(u.valueOf(), 5n);
      assertIs((u as unknown as bigint) + 1n, 6n, "arithmetic");
      assertIs(String(u), "5");
      assertIs(Object.prototype.toString.call(u), "[object Deno.KvU64]");
      return Promise.resolve();
    },
  },
];
