/**
 * kvq (through FFI) and Deno's own KV in one Deno program, on different
 * files and on the same file: values written by each are read by the other,
 * and messages enqueued by each are delivered to the other's listener.
 *
 *     node_modules/.bin/deno test --allow-ffi --allow-read --allow-write \
 *       --allow-env --unstable-kv tests-js/deno_ffi/interop_test.ts
 *
 * @module
 */

import { openKv } from "../../jsr/mod.ts";
import { assertEquals } from "../harness/assert.ts";

const tempDb = () => Deno.makeTempFileSync({ suffix: ".db" });

/** Resolves with the first message a listener gets, or fails after `ms`. */
function firstMessage(
  listen: (handler: (m: unknown) => void) => Promise<void>,
  ms: number,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no message within ${ms} ms`)),
      ms,
    );
    listen((message) => {
      clearTimeout(timer);
      resolve(message);
    }).catch(reject);
  });
}

Deno.test("kvq and Deno KV work side by side on different files", async () => {
  const native = await Deno.openKv(tempDb());
  const kvq = await openKv(tempDb());
  await native.set(["k"], "native");
  await kvq.set(["k"], "kvq");
  assertEquals((await native.get(["k"])).value, "native", "Deno's file");
  assertEquals((await kvq.get(["k"])).value, "kvq", "kvq's file");
  const got = firstMessage((h) => kvq.listenQueue(h), 5000);
  const gotNative = firstMessage((h) => native.listenQueue(h), 5000);
  await kvq.enqueue({ to: "kvq" });
  await native.enqueue({ to: "native" });
  assertEquals(await got, { to: "kvq" }, "kvq's own queue");
  assertEquals(await gotNative, { to: "native" }, "Deno's own queue");
  kvq.close();
  native.close();
});

Deno.test("values written by each are read by the other on one file", async () => {
  const path = tempDb();
  const native = await Deno.openKv(path);
  const kvq = await openKv(path);
  const fromKvq = await kvq.set(["from", "kvq"], { n: 1n, s: "x" });
  const fromNative = await native.set(["from", "deno"], new Uint8Array([9]));
  const seenByNative = await native.get(["from", "kvq"]);
  assertEquals(seenByNative.value, { n: 1n, s: "x" }, "kvq -> Deno");
  assertEquals(seenByNative.versionstamp, fromKvq.versionstamp, "stamp");
  const seenByKvq = await kvq.get(["from", "deno"]);
  assertEquals(seenByKvq.value, new Uint8Array([9]), "Deno -> kvq");
  assertEquals(seenByKvq.versionstamp, fromNative.versionstamp, "stamp");
  kvq.close();
  native.close();
});

Deno.test("a message Deno enqueues is delivered to a kvq listener", async () => {
  const path = tempDb();
  const native = await Deno.openKv(path);
  const kvq = await openKv(path);
  const got = firstMessage((h) => kvq.listenQueue(h), 10_000);
  await native.enqueue({ from: "deno", at: 1 });
  assertEquals(await got, { from: "deno", at: 1 }, "message");
  kvq.close();
  native.close();
});

// Deno's listener notices another connection's enqueue only through its
// 60 s fallback poll (docs: spec/deno-kv-behaviour.md, "Cross-process"); it
// does look at the queue when the database opens. So kvq enqueues first,
// then Deno opens the file and listens, with kvq still open beside it.
Deno.test("a message kvq enqueues is delivered to a Deno listener", async () => {
  const path = tempDb();
  const kvq = await openKv(path);
  await kvq.enqueue({ from: "kvq", at: 2 });
  const native = await Deno.openKv(path);
  const got = firstMessage((h) => native.listenQueue(h), 10_000);
  assertEquals(await got, { from: "kvq", at: 2 }, "message");
  kvq.close();
  native.close();
});
