/**
 * sum/min/max (spec 4.4, 4.5, 4.7): KvU64 arithmetic, the V8 sum rules, their
 * messages, and the partial-commit deviation (COMPATIBILITY.md section 2).
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertRejects,
  assertThrows,
  withKv,
} from "../harness/helpers.ts";
import type { Case, KvLike } from "../harness/types.ts";

const MAX = 2n ** 64n - 1n;

/** Reads ["n"] as a bigint (KvU64 or bigint), or the raw value. */
async function readN(kv: KvLike): Promise<unknown> {
  const v = (await kv.get(["n"])).value;
  return v !== null && typeof v === "object" ? v.valueOf() : v;
}

/** Commits one mutate() of `type` with `value` on ["n"]. */
function mutateN(kv: KvLike, type: string, value: unknown) {
  return kv.atomic().mutate({ type, key: ["n"], value }).commit();
}

/** Stores `stored` under ["n"], then mutates it; returns the new value. */
async function apply(
  kv: KvLike,
  stored: unknown,
  type: string,
  value: unknown,
): Promise<unknown> {
  if (stored !== undefined) await kv.set(["n"], stored);
  await mutateN(kv, type, value);
  return await readN(kv);
}

export const cases: Case[] = [
  {
    name: "atomic.sum: sum, min and max on a missing key store the operand",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.atomic().sum(["s"], 5n).min(["mi"], 6n).max(["ma"], 7n)
          .commit();
        const got = await kv.getMany([["s"], ["mi"], ["ma"]]);
        assert(
          got.every((e) => e.value instanceof t.KvU64),
          "expected KvU64 values",
        );
        assertEquals(got.map((e) => (e.value as { value: bigint }).value), [
          5n,
          6n,
          7n,
        ]);
      }),
  },
  {
    name: "atomic.sum: the KvU64 sum wraps modulo 2^64",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["n"], new t.KvU64(MAX));
        await kv.atomic().sum(["n"], 10n).commit();
        assertIs(await readN(kv), 9n);
        await kv.atomic().sum(["n"], MAX).commit();
        assertIs(await readN(kv), 8n);
      }),
  },
  {
    name: "atomic.min: min and max compare as unsigned 64-bit integers",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["n"], new t.KvU64(10n));
        await kv.atomic().min(["n"], MAX).commit();
        assertIs(await readN(kv), 10n);
        await kv.atomic().max(["n"], MAX).commit();
        assertIs(await readN(kv), MAX);
        await kv.atomic().min(["n"], 3n).commit();
        assertIs(await readN(kv), 3n);
      }),
  },
  {
    name:
      "atomic.sum: sum, min and max build a KvU64 synchronously and throw its errors",
    run: (t) =>
      withKv(t, (kv) => {
        assertThrows(
          () => kv.atomic().sum(["n"], 1),
          TypeError,
          "Value must be a bigint: received number",
        );
        assertThrows(
          () => kv.atomic().min(["n"], -1n),
          RangeError,
          "Value must be a positive bigint: received -1",
        );
        assertThrows(
          () => kv.atomic().max(["n"], 2n ** 64n),
          RangeError,
          "Value must fit in a 64-bit unsigned integer",
        );
        return Promise.resolve();
      }),
  },
  ...["sum", "min", "max"].map((op): Case => ({
    name: `atomic.${op}: a KvU64 ${op} onto a non-U64 stored value rejects`,
    run: (t) =>
      withKv(t, async (kv) => {
        for (const stored of [1, 1n, "s", new Uint8Array([1])]) {
          await kv.set(["n"], stored);
          await assertRejects(
            () => mutateN(kv, op, new t.KvU64(1n)),
            TypeError,
            `Failed to perform '${op}' mutation on a non-U64 value in the database`,
          );
        }
      }),
  })),
  ...["min", "max"].map((op): Case => ({
    name: `atomic.${op}: a non-KvU64 operand via mutate rejects`,
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertRejects(
            () => mutateN(kv, op, 5),
            TypeError,
            `Failed to perform '${op}' mutation on a non-U64 operand`,
          ),
      ),
  })),
  {
    name: "atomic.sum: a V8 number sum adds numbers (int and double)",
    run: (t) =>
      withKv(t, async (kv) => {
        assertIs(await apply(kv, 1.5, "sum", 2), 3.5);
        assertIs(await apply(kv, 2, "sum", 0.25), 2.25);
      }),
  },
  {
    name: "atomic.sum: a V8 number sum onto a missing key stores the number",
    run: (t) =>
      withKv(
        t,
        async (kv) => assertIs(await apply(kv, undefined, "sum", 7), 7),
      ),
  },
  {
    name:
      "atomic.sum: a V8 bigint sum adds bigints, or stores the operand on a missing key",
    run: (t) =>
      withKv(t, async (kv) => {
        assertIs(await apply(kv, undefined, "sum", -4n), -4n);
        assertIs(await apply(kv, 10n, "sum", 2n ** 70n), 10n + 2n ** 70n);
      }),
  },
  {
    name: "atomic.sum: a bigint onto a stored KvU64 is a wrapping KvU64 sum",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["n"], new t.KvU64(5n));
        await mutateN(kv, "sum", 3n);
        const v = (await kv.get(["n"])).value;
        assert(v instanceof t.KvU64, "expected a KvU64");
        assertIs(v.valueOf(), 8n);
        await mutateN(kv, "sum", MAX);
        assertIs(await readN(kv), 7n);
      }),
  },
  {
    name:
      "atomic.sum: a negative or too large bigint onto a stored KvU64 rejects",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["n"], new t.KvU64(5n));
        await assertRejects(
          () => mutateN(kv, "sum", -1n),
          TypeError,
          "Cannot sum KvU64 with BigInt",
        );
        await assertRejects(
          () => mutateN(kv, "sum", 2n ** 64n),
          TypeError,
          "Cannot sum KvU64 with BigInt",
        );
      }),
  },
  {
    name:
      "atomic.sum: mismatched V8 sum types reject with Cannot sum <stored> with <operand>",
    run: (t) =>
      withKv(t, async (kv) => {
        const cases: [unknown, unknown, string][] = [
          [new t.KvU64(1n), 1, "Cannot sum KvU64 with Number"],
          [1n, 1, "Cannot sum BigInt with Number"],
          [1, 1n, "Cannot sum Number with BigInt"],
        ];
        for (const [stored, operand, msg] of cases) {
          await kv.set(["n"], stored);
          await assertRejects(
            () => mutateN(kv, "sum", operand),
            TypeError,
            msg,
          );
        }
      }),
  },
  {
    name:
      "atomic.sum: a V8 sum onto a stored null or string rejects with unsupported value type",
    run: (t) =>
      withKv(t, async (kv) => {
        for (const stored of [null, "s"]) {
          await kv.set(["n"], stored);
          await assertRejects(
            () => mutateN(kv, "sum", 1),
            TypeError,
            "unsupported value type",
          );
        }
      }),
  },
  {
    name:
      "atomic.sum: a string or object operand rejects with not valid V8 values",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["n"], 1);
        for (const operand of ["1", { a: 1 }]) {
          await assertRejects(
            () => mutateN(kv, "sum", operand),
            TypeError,
            "Some of the parameters are not valid V8 values",
          );
        }
      }),
  },
  {
    name:
      "atomic.sum: a failing sum after a set commits the set on Deno, nothing on kvq",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["bad"], "not a number");
        const before = await kv.set(["probe"], 0);
        await assertRejects(
          () =>
            kv.atomic().set(["first"], 1).sum(["bad"], 1n).set(["after"], 2)
              .enqueue("m").commit(),
          TypeError,
          "Failed to perform 'sum' mutation on a non-U64 value in the database",
        );
        const [first, after] = await kv.getMany([["first"], ["after"]]);
        assertIs(after.versionstamp, null, "the mutation after the failure");
        // The version counter moved only if something was committed.
        const next = await kv.set(["probe"], 1);
        if (t.isDenoNative) {
          // Deviation: Deno commits the mutations before the failing one.
          assertIs(first.value, 1, "the mutation before the failure");
          assert(
            first.versionstamp! > before.versionstamp!,
            "the partial commit has its own versionstamp",
          );
          assert(
            next.versionstamp! > first.versionstamp!,
            "later commits move past it",
          );
        } else {
          assertIs(first.versionstamp, null, "the mutation before the failure");
        }
      }),
  },
];
