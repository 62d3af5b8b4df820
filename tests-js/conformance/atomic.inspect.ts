/**
 * How an AtomicOperation and a KvU64 look when inspected (Deno.inspect
 * under Deno, util.inspect on Node and Bun): as Deno 2.9.6 shows its own,
 * "AtomicOperation (empty)" or one line per queued operation. Keys and
 * values inside the lines are the runtime's own rendering.
 *
 * @module
 */

import { assertEquals, assertIs, withKv } from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";

type Inspect = (value: unknown) => string;

/** The runtime's inspect: Deno.inspect, else node:util's. */
function runtimeInspect(): Inspect {
  const host = globalThis as {
    Deno?: { inspect?: Inspect };
    process?: { getBuiltinModule?: (id: string) => unknown };
  };
  if (typeof host.Deno?.inspect === "function") return host.Deno.inspect;
  const util = host.process?.getBuiltinModule?.("node:util") as {
    inspect: Inspect;
  };
  return (v) => util.inspect(v);
}

const inspect = runtimeInspect();

export const cases: Case[] = [
  {
    name: "atomic.inspect: an empty operation shows as AtomicOperation (empty)",
    run: (t) =>
      withKv(t, (kv) => {
        assertIs(inspect(kv.atomic()), "AtomicOperation (empty)");
        return Promise.resolve();
      }),
  },
  {
    name:
      "atomic.inspect: one line per check, mutation and enqueue, in that order",
    run: (t) =>
      withKv(t, (kv) => {
        const op = kv.atomic()
          .enqueue({ type: "email" })
          .set(["users", "bob"], { name: "Bob", age: 30 })
          .check({ key: ["users", "alice"], versionstamp: "v1" })
          .set(["temp"], "temporary", { expireIn: 60000 })
          .delete(["old", "record"])
          .check({ key: ["posts", 42], versionstamp: null })
          .sum(["visits"], 5n)
          .min(["low"], 1n)
          .max(["high"], 9n)
          .mutate({ type: "set", key: ["m"], value: 1, expireIn: 5 })
          .enqueue({ type: "reminder" }, { delay: 3600000 })
          .enqueue("retry", {
            backoffSchedule: [1000, 2000],
            keysIfUndelivered: [["failed", "batch1"]],
          });
        const u = (n: bigint) => inspect(new t.KvU64(n));
        assertEquals(inspect(op).split("\n"), [
          "AtomicOperation",
          `  check({ key: ${
            inspect(["users", "alice"])
          }, versionstamp: "v1" })`,
          `  check({ key: ${inspect(["posts", 42])}, versionstamp: null })`,
          `  set(${inspect(["users", "bob"])}, ${
            inspect({ name: "Bob", age: 30 })
          })`,
          `  set(${inspect(["temp"])}, ${
            inspect("temporary")
          }, { expireIn: 60000 })`,
          `  delete(${inspect(["old", "record"])})`,
          `  sum(${inspect(["visits"])}, ${u(5n)})`,
          `  min(${inspect(["low"])}, ${u(1n)})`,
          `  max(${inspect(["high"])}, ${u(9n)})`,
          `  set(${inspect(["m"])}, 1, { expireIn: 5 })`,
          `  enqueue(${inspect({ type: "email" })})`,
          `  enqueue(${inspect({ type: "reminder" })}, { delay: 3600000 })`,
          `  enqueue(${inspect("retry")}, { keysIfUndelivered: ${
            inspect([["failed", "batch1"]])
          }, backoffSchedule: ${inspect([1000, 2000])} })`,
        ]);
        return Promise.resolve();
      }),
  },
  {
    name: "atomic.inspect: values show as they will be stored",
    run: (t) =>
      withKv(t, (kv) => {
        class Point {
          x = 1;
        }
        const op = kv.atomic()
          .set(["bytes"], new Uint8Array([1, 2, 3, 4]))
          .set(["null"], null)
          .set(["undefined"], undefined)
          .set(["bigint"], 9007199254740991n)
          .set(["class"], new Point())
          .set(["u64"], new t.KvU64(3n));
        const lines = inspect(op).split("\n").slice(1);
        assertEquals(lines, [
          `  set(${inspect(["bytes"])}, ${
            inspect(new Uint8Array([1, 2, 3, 4]))
          })`,
          `  set(${inspect(["null"])}, null)`,
          `  set(${inspect(["undefined"])}, undefined)`,
          `  set(${inspect(["bigint"])}, 9007199254740991n)`,
          `  set(${inspect(["class"])}, ${inspect({ x: 1 })})`,
          `  set(${inspect(["u64"])}, ${inspect(new t.KvU64(3n))})`,
        ]);
        return Promise.resolve();
      }),
  },
  {
    name: "atomic.inspect: a KvU64 shows as [Deno.KvU64: 1n]",
    run: (t) => {
      assertIs(inspect(new t.KvU64(1n)), "[Deno.KvU64: 1n]");
      assertIs(
        inspect([new t.KvU64(2n)]).replace(/\s/g, ""),
        "[[Deno.KvU64:2n]]",
      );
      return Promise.resolve();
    },
  },
];
