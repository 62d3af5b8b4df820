/**
 * Cross-check against the real V8 inside Node: for every value of the matrix,
 * Node's `v8.Serializer` (typed arrays as standard 'V' records, not host objects)
 * must write the same bytes as `serialize`; `v8.deserialize` must read our bytes
 * back; `deserialize` must read Node's bytes back. Node 24 (V8 13.6) writes
 * version 15, as kvq does. Node only: elsewhere `node:v8` is not V8.
 *
 * @module
 */

import v8 from "node:v8";
import { deserialize, serialize } from "../../jsr/src/v8/mod.ts";
import { assert, assertEqual, hex, run, runtime, test } from "./harness.ts";
import { SAMPLES } from "./values.ts";
import { UNCLONABLE } from "./unclonable.ts";

interface NodeSerializer {
  _setTreatArrayBufferViewsAsHostObjects(flag: boolean): void;
  writeHeader(): void;
  writeValue(v: unknown): boolean;
  releaseBuffer(): Uint8Array;
}

function nodeSerialize(value: unknown): Uint8Array {
  const s = new v8.Serializer() as unknown as NodeSerializer;
  s._setTreatArrayBufferViewsAsHostObjects(false);
  s.writeHeader();
  s.writeValue(value);
  return new Uint8Array(s.releaseBuffer());
}

const versions =
  (globalThis as { process?: { versions: Record<string, string> } })
    .process?.versions ?? {};

if (runtime === "node") {
  test(`comparing with Node ${versions.node} (V8 ${versions.v8})`, () => {
    assert(
      hex(nodeSerialize(1)).startsWith("ff0f"),
      "Node does not write version 15",
    );
  });

  for (const s of SAMPLES) {
    const value = s.make();
    const expected = s.expect ? s.expect(value) : value;
    test(`same bytes as Node's V8: ${s.name}`, () => {
      const ours = hex(serialize(value));
      const node = hex(nodeSerialize(value));
      assert(
        ours === node,
        `ours ${ours.slice(0, 200)}\n      node ${node.slice(0, 200)}`,
      );
    });
    test(`Node's v8.deserialize reads ours: ${s.name}`, () => {
      assertEqual(v8.deserialize(serialize(value)), expected);
    });
    test(`deserialize reads Node's: ${s.name}`, () => {
      assertEqual(deserialize(nodeSerialize(value)), expected);
    });
  }

  for (const u of UNCLONABLE) {
    if (u.node === false) continue;
    test(`same refusal message as Node's V8: ${u.name}`, () => {
      const messages = [serialize, nodeSerialize].map((f) => {
        try {
          f(u.make());
          return "(nothing thrown)";
        } catch (e) {
          return (e as Error).message;
        }
      });
      assert(
        messages[0] === messages[1],
        `ours ${messages[0]}, Node ${messages[1]}`,
      );
    });
  }
} else {
  console.log(`skipped: ${runtime}'s node:v8 is not V8's ValueSerializer`);
}

await run();
