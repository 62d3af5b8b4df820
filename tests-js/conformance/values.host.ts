/**
 * Host objects as values (spec 2.4): Blob, File, DOMException and CryptoKey
 * round-trip as themselves, as they do on Deno 2.9.6, whose serializer
 * writes them through its own delegate (bytes: tests-js/v8/host_cases.ts).
 * A Blob's bytes stay in the memory of the process that wrote it, in Deno
 * and in kvq alike: these cases read back in that process. Node 20 cannot
 * rebuild a CryptoKey synchronously, so kvq refuses one there when it is
 * written, with V8's "could not be cloned" error. Streams and MessagePorts
 * are refused everywhere.
 *
 * @module
 */

import {
  assert,
  assertEquals,
  assertIs,
  assertRejects,
  assertThrows,
  recordDeliveries,
  sleepUntil,
  withKv,
} from "../harness/helpers.ts";
import type { Case, KvLike, Target } from "../harness/types.ts";

/** Writes `value` under ["v"] and returns what get reads back. */
async function roundTrip(kv: KvLike, value: unknown): Promise<unknown> {
  await kv.set(["v"], value);
  return (await kv.get(["v"])).value;
}

/** Node 20 has no KeyObject.toCryptoKey: kvq refuses CryptoKeys there. */
function refusesCryptoKey(t: Target): boolean {
  return t.name === "node20";
}

const CLONE_KEY = "#<CryptoKey> could not be cloned.";

function aesKey(extractable: boolean): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    new Uint8Array(16).fill(9),
    { name: "AES-GCM" },
    extractable,
    ["encrypt", "decrypt"],
  );
}

export const cases: Case[] = [
  {
    name: "values: a Blob round-trips with its type and bytes",
    run: (t) =>
      withKv(t, async (kv) => {
        const back = await roundTrip(
          kv,
          new Blob(["Hello, world!"], { type: "text/plain" }),
        ) as Blob;
        assert(
          back instanceof Blob,
          `got ${Object.prototype.toString.call(back)}`,
        );
        // Bun adds ";charset=utf-8" to a Blob made of strings.
        assertIs(back.type.split(";")[0], "text/plain", "type");
        assertIs(await back.text(), "Hello, world!", "text");
      }),
  },
  {
    name:
      "values: a File round-trips with its name, type, lastModified and bytes",
    run: (t) =>
      withKv(t, async (kv) => {
        const file = new File([new Uint8Array([1, 2, 3])], "a.bin", {
          type: "application/octet-stream",
          lastModified: 12345,
        });
        const back = await roundTrip(kv, file) as File;
        assert(
          back instanceof File,
          `got ${Object.prototype.toString.call(back)}`,
        );
        assertEquals(
          [back.name, back.type, back.lastModified, back.size],
          ["a.bin", "application/octet-stream", 12345, 3],
        );
        assertEquals(
          new Uint8Array(await back.arrayBuffer()),
          new Uint8Array([1, 2, 3]),
        );
      }),
  },
  {
    name: "values: an empty Blob round-trips",
    run: (t) =>
      withKv(t, async (kv) => {
        const back = await roundTrip(kv, new Blob([])) as Blob;
        assert(back instanceof Blob, "not a Blob");
        assertEquals([back.size, back.type, await back.text()], [0, "", ""]);
      }),
  },
  {
    name:
      "values: a DOMException round-trips as a DOMException with its name, message, code and stack",
    run: (t) =>
      withKv(t, async (kv) => {
        const ex = new DOMException("oops", "DataCloneError");
        const back = await roundTrip(kv, ex) as DOMException;
        assert(
          back instanceof DOMException,
          `got ${Object.prototype.toString.call(back)}`,
        );
        assertEquals(
          [back.name, back.message, back.code, back.stack],
          ["DataCloneError", "oops", 25, ex.stack],
        );
      }),
  },
  {
    name:
      "values: host objects inside a value keep their place and their sharing",
    run: (t) =>
      withKv(t, async (kv) => {
        const blob = new Blob(["x"]);
        const ex = new DOMException("m", "AbortError");
        const back = await roundTrip(kv, { list: [blob, ex], again: blob }) as {
          list: [Blob, DOMException];
          again: Blob;
        };
        assert(back.list[0] instanceof Blob, "Blob lost");
        assertIs(back.again, back.list[0], "the shared Blob");
        assertIs(await back.again.text(), "x", "text");
        assert(back.list[1] instanceof DOMException, "DOMException lost");
        assertIs(back.list[1].name, "AbortError", "name");
      }),
  },
  {
    name:
      "values: a CryptoKey round-trips with its algorithm, usages and key (refused on Node 20)",
    run: (t) =>
      withKv(t, async (kv) => {
        const key = await aesKey(true);
        if (refusesCryptoKey(t)) {
          await assertRejects(() => kv.set(["k"], key), TypeError, CLONE_KEY);
          assertThrows(
            () => kv.atomic().set(["k"], [key]),
            TypeError,
            CLONE_KEY,
          );
          assertIs((await kv.get(["k"])).versionstamp, null, "nothing written");
          return;
        }
        const back = await roundTrip(kv, key) as CryptoKey;
        assert(
          back instanceof CryptoKey,
          `got ${Object.prototype.toString.call(back)}`,
        );
        assertEquals(
          [back.type, back.extractable, back.algorithm, [...back.usages]],
          ["secret", true, { name: "AES-GCM", length: 128 }, [
            "encrypt",
            "decrypt",
          ]],
        );
        assertEquals(
          new Uint8Array(await crypto.subtle.exportKey("raw", back)),
          new Uint8Array(16).fill(9),
        );
      }),
  },
  {
    name:
      "values: a non-extractable CryptoKey keeps its key material (refused on Node 20)",
    run: (t) =>
      withKv(t, async (kv) => {
        const key = await aesKey(false);
        if (refusesCryptoKey(t)) {
          await assertRejects(() => kv.set(["k"], key), TypeError, CLONE_KEY);
          return;
        }
        const back = await roundTrip(kv, key) as CryptoKey;
        assertIs(back.extractable, false, "extractable");
        const iv = new Uint8Array(12);
        const data = new Uint8Array([1, 2, 3]);
        const sealed = await crypto.subtle.encrypt(
          { name: "AES-GCM", iv },
          back,
          data,
        );
        const opened = await crypto.subtle.decrypt(
          { name: "AES-GCM", iv },
          key,
          sealed,
        );
        assertEquals(new Uint8Array(opened), data);
      }),
  },
  {
    name:
      "values: streams and MessagePorts are refused: TypeError Unsupported object type",
    run: (t) =>
      withKv(t, async (kv) => {
        const { port1, port2 } = new MessageChannel();
        try {
          for (
            const v of [new ReadableStream(), new TransformStream(), port1]
          ) {
            await assertRejects(
              () => kv.set(["s"], { v }),
              TypeError,
              "Unsupported object type",
            );
          }
        } finally {
          port1.close();
          port2.close();
        }
      }),
  },
  {
    name: "queue: a Blob and a DOMException enqueued arrive as themselves",
    run: (t) =>
      withKv(t, async (kv) => {
        const r = recordDeliveries(kv);
        await kv.enqueue({
          blob: new Blob(["queued"]),
          ex: new DOMException("late", "TimeoutError"),
        });
        await sleepUntil(() => r.seen.length === 1, 3000, "delivery");
        const m = r.seen[0] as { blob: Blob; ex: DOMException };
        assert(m.blob instanceof Blob, "Blob lost");
        assertIs(await m.blob.text(), "queued", "text");
        assert(m.ex instanceof DOMException, "DOMException lost");
        assertEquals([m.ex.name, m.ex.code], ["TimeoutError", 23]);
      }),
  },
];
