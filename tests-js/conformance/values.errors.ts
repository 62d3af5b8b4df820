/**
 * Unserializable values (spec 2.4): the error class and message, and when it
 * surfaces: a rejection from set/enqueue, a synchronous throw from the atomic
 * builder.
 *
 * @module
 */

import { assertRejects, assertThrows, withKv } from "../harness/helpers.ts";
import type { Case, ErrorClass } from "../harness/types.ts";

const fn = () => {};
// The message quotes the function's source text as the runtime sees it (a
// transpiler may have reformatted it), so it is computed, not spelled out.
const FN_MSG = `${String(fn)} could not be cloned.`;

/** [label, value factory, error class, message]. */
const UNCLONEABLE: [string, () => unknown, ErrorClass, string][] = [
  ["a function", () => fn, TypeError, FN_MSG],
  ["a symbol", () => Symbol("s"), TypeError, "Symbol(s) could not be cloned."],
  [
    "a WeakMap",
    () => new WeakMap(),
    TypeError,
    "#<WeakMap> could not be cloned.",
  ],
  [
    "a WeakSet",
    () => new WeakSet(),
    TypeError,
    "#<WeakSet> could not be cloned.",
  ],
  [
    "a Promise",
    () => Promise.resolve(),
    TypeError,
    "#<Promise> could not be cloned.",
  ],
  [
    "a SharedArrayBuffer",
    () => new SharedArrayBuffer(1),
    Error,
    "#<SharedArrayBuffer> could not be cloned.",
  ],
  ["a function nested in an object", () => ({ f: fn }), TypeError, FN_MSG],
  [
    "a Proxy",
    () => new Proxy({ a: 1 }, {}),
    TypeError,
    "#<Object> could not be cloned.",
  ],
  [
    "an array in a Proxy, nested,",
    () => ({ ok: 1, list: new Proxy([1], {}) }),
    TypeError,
    "[object Array] could not be cloned.",
  ],
];

export const cases: Case[] = [
  ...UNCLONEABLE.map(([label, make, cls, msg]): Case => ({
    name: `kv.set: ${label} value rejects with ${cls.name}`,
    run: (t) =>
      withKv(t, (kv) => assertRejects(() => kv.set(["k"], make()), cls, msg)),
  })),
  ...UNCLONEABLE.map(([label, make, cls, msg]): Case => ({
    name: `atomic.set: ${label} value throws synchronously at builder time`,
    run: (t) =>
      withKv(
        t,
        (kv) =>
          Promise.resolve(
            assertThrows(() => kv.atomic().set(["k"], make()), cls, msg),
          ),
      ),
  })),
  {
    name: "atomic.mutate: an unserializable set value throws synchronously",
    run: (t) =>
      withKv(t, (kv) =>
        Promise.resolve(
          assertThrows(
            () => kv.atomic().mutate({ type: "set", key: ["k"], value: fn }),
            TypeError,
            FN_MSG,
          ),
        )),
  },
  {
    name: "kv.enqueue: an unserializable payload rejects",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertRejects(
            () => kv.enqueue(new WeakMap()),
            TypeError,
            "#<WeakMap> could not be cloned.",
          ),
      ),
  },
  {
    name: "atomic.enqueue: an unserializable payload throws synchronously",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          Promise.resolve(assertThrows(
            () => kv.atomic().enqueue(Symbol("s")),
            TypeError,
            "Symbol(s) could not be cloned.",
          )),
      ),
  },
  {
    name: "kv.enqueue: a Proxy payload rejects with Deno's TypeError",
    run: (t) =>
      withKv(
        t,
        (kv) =>
          assertRejects(
            () => kv.enqueue(new Proxy({}, {})),
            TypeError,
            "#<Object> could not be cloned.",
          ),
      ),
  },
  {
    name: "kv.set: a failed serialisation writes nothing",
    run: (t) =>
      withKv(t, async (kv) => {
        await kv.set(["k"], fn).catch(() => {});
        const got = await kv.get(["k"]);
        if (got.versionstamp !== null) {
          throw new Error("expected nothing written");
        }
      }),
  },
];
