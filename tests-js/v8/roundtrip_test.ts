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

test(`runtime is ${runtime}`, () => {});

await run();
