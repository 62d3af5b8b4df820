/**
 * Round trips of the whole value matrix through serialize and deserialize, and the
 * errors for values that cannot be cloned. Runs on Node 24, Bun and Deno.
 *
 * @module
 */

import { deserialize, serialize } from "../../jsr/src/v8/mod.ts";
import {
  assert,
  assertEqual,
  assertError,
  hex,
  run,
  runtime,
  test,
} from "./harness.ts";
import { SAMPLES } from "./values.ts";
import { UNCLONABLE } from "./unclonable.ts";
import { DEEP_KINDS, deepBytes, nest } from "./deep.ts";
import { MAX_DEPTH } from "../../jsr/src/v8/depth.ts";

for (const s of SAMPLES) {
  test(`round trip ${s.name}`, () => {
    const value = s.make();
    const bytes = serialize(value);
    assert(bytes[0] === 0xff && bytes[1] === 0x0f, "header is not FF 0F");
    const back = deserialize(bytes);
    assertEqual(back, s.expect ? s.expect(value) : value);
    // The writer is reused between calls: the same value must give the same bytes.
    assert(
      hex(serialize(value)) === hex(bytes),
      "second serialisation differs",
    );
  });
}

for (const u of UNCLONABLE) {
  test(`serialize refuses ${u.name} (${u.cls.name})`, () => {
    let caught: unknown;
    try {
      serialize(u.make());
    } catch (e) {
      caught = e;
    }
    assertError(caught, u.cls, u.message);
  });
}

test("serialize works again after a refused value", () => {
  try {
    serialize({ a: [1, { b: () => 1 }] });
  } catch {
    // expected
  }
  assert(hex(serialize({ a: 1 })) === "ff0f6f22016149027b01", "state leaked");
});

test("serialize called from a getter during serialize", () => {
  const inner = {
    get x() {
      return serialize([1, 2]);
    },
  };
  const back = deserialize(serialize({ inner, after: "tail" })) as {
    inner: { x: Uint8Array };
    after: string;
  };
  assert(
    hex(back.inner.x) === "ff0f41024902490424 0002".replace(" ", ""),
    hex(back.inner.x),
  );
  assert(back.after === "tail", "outer value damaged");
});

test("deserialize returns fresh objects with their own buffers", () => {
  const bytes = serialize(new Uint8Array([1, 2, 3]));
  const a = deserialize(bytes) as Uint8Array;
  a[0] = 9;
  assertEqual(deserialize(bytes), new Uint8Array([1, 2, 3]));
});

for (const kind of DEEP_KINDS) {
  test(`a ${kind} nested MAX_DEPTH (${MAX_DEPTH}) deep round-trips`, () => {
    const bytes = serialize(nest(kind, MAX_DEPTH));
    assert(
      hex(bytes) === hex(deepBytes(kind, MAX_DEPTH)) || kind === "error",
      "bytes",
    );
    let v = deserialize(bytes);
    for (let i = 0; i < MAX_DEPTH; i++) {
      v = kind === "set"
        ? [...(v as Set<unknown>)][0]
        : kind === "map"
        ? (v as Map<unknown, unknown>).get(0)
        : kind === "object"
        ? (v as { a: unknown }).a
        : kind === "error"
        ? (v as Error).cause
        : (v as unknown[])[kind === "sparse" ? 5 : 0];
    }
    assert(v === 0, `innermost value ${String(v)}`);
    assert(deserialize(deepBytes(kind, MAX_DEPTH)) !== undefined, "read");
  });

  test(`a ${kind} nested deeper than MAX_DEPTH is refused with a RangeError`, () => {
    let caught: unknown;
    try {
      serialize({ ok: 1, deep: nest(kind, MAX_DEPTH) });
    } catch (e) {
      caught = e;
    }
    assertError(
      caught,
      RangeError,
      `Value too deeply nested: more than ${MAX_DEPTH} levels of objects, arrays, maps, sets or errors`,
    );
    // The writer is reused: the refused value leaves nothing behind.
    assert(
      hex(serialize([[1]])) ===
        "ff0f410141014902240001240001",
      "state leaked",
    );
    caught = undefined;
    try {
      deserialize(deepBytes(kind, MAX_DEPTH + 1));
    } catch (e) {
      caught = e;
    }
    assertError(caught, RangeError, "could not deserialize value");
  });
}

test("a value 50,000 deep is refused at once, whatever the stack", () => {
  let caught: unknown;
  try {
    serialize(nest("array", 50_000));
  } catch (e) {
    caught = e;
  }
  assert(caught instanceof RangeError, String(caught));
  caught = undefined;
  try {
    deserialize(deepBytes("array", 50_000));
  } catch (e) {
    caught = e;
  }
  assertError(caught, RangeError, "could not deserialize value");
});

test(`runtime is ${runtime}`, () => {});

await run();
