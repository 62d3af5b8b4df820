/**
 * The FFI transport on its own, with hand-built wire buffers: every
 * operation, the reply envelope, handle lifetimes, and the close paths.
 *
 *     node_modules/.bin/deno test --allow-ffi --allow-read --allow-write \
 *       --allow-env tests-js/deno_ffi/transport_test.ts
 *
 * @module
 */

import { serialize } from "node:v8";
import { ffiTransport as t } from "../../jsr/ffi/transport.ts";
import { assert, assertEquals } from "../harness/assert.ts";
import { orTimeout, sleep } from "../harness/helpers.ts";
import {
  enqueue,
  errorCode,
  ok,
  readOne,
  setBytes,
  stringKey,
  WireWriter,
} from "./wire_util.ts";

const RELAXED = '{"durability":"relaxed"}';

Deno.test("a set of a bytes value is read back with its versionstamp", async () => {
  for (const path of [":memory:", Deno.makeTempFileSync({ suffix: ".db" })]) {
    const store = await t.open(path, RELAXED);
    const key = stringKey("a");
    const value = new Uint8Array([1, 2, 3]);
    const w = ok(await t.atomicWrite(store, setBytes(key, value)));
    assertEquals(w.u8(), 1, "committed");
    const stamp = w.raw(10);
    const r = ok(await t.snapshotRead(store, readOne(key)));
    assertEquals(r.u32(), 1, "ranges");
    assertEquals(r.u32(), 1, "entries");
    assertEquals(r.bytes(), key, "key");
    assertEquals(r.u8(), 3, "value encoding");
    assertEquals(r.bytes(), value, "value");
    assertEquals(r.raw(10), stamp, "versionstamp");
    assert(r.done, "reply fully read");
    t.close(store);
  }
});

Deno.test("a file database answers reads synchronously", async () => {
  const store = await t.open(Deno.makeTempFileSync({ suffix: ".db" }), RELAXED);
  const reply = t.snapshotRead(store, readOne(stringKey("none")));
  assert(reply instanceof Uint8Array, "a Uint8Array, not a promise");
  const r = ok(reply);
  assertEquals([r.u32(), r.u32()], [1, 0], "one empty range");
  t.close(store);
});

Deno.test("a watch sees the current value, then each change, then its close", async () => {
  const store = await t.open(":memory:", RELAXED);
  const key = stringKey("w");
  const watcher = await t.watch(
    store,
    new WireWriter().u8(0).u32(1).bytes(key).done(),
  );
  const first = ok(await t.watchNext(watcher));
  assertEquals([first.u8(), first.u32(), first.u8()], [1, 1, 0], "absent");
  const next = t.watchNext(watcher);
  ok(await t.atomicWrite(store, setBytes(key, new Uint8Array([7]))));
  const changed = ok(await orTimeout(next, 5000, "watch change"));
  assertEquals([changed.u8(), changed.u32(), changed.u8()], [1, 1, 1]);
  assertEquals([changed.u8(), ...changed.bytes()], [3, 7], "new value");
  const pending = t.watchNext(watcher);
  t.watchClose(watcher);
  const ended = ok(await orTimeout(pending, 5000, "watch close"));
  assertEquals(ended.u8(), 0, "state ended");
  t.close(store);
});

Deno.test("an enqueued message is dequeued and finished in batches", async () => {
  const store = await t.open(":memory:", RELAXED);
  const payload = new Uint8Array(serialize("hello"));
  for (let i = 0; i < 3; i++) ok(await t.atomicWrite(store, enqueue(payload)));
  const batch = ok(await orTimeout(t.dequeue(store, 10, 1), 5000, "dequeue"));
  const n = batch.u32();
  assert(n >= 1 && n <= 3, `a batch of 1..3 messages, got ${n}`);
  const finish = new WireWriter().u32(n);
  for (let i = 0; i < n; i++) {
    finish.f64(batch.f64()).u8(1);
    assertEquals(batch.bytes(), payload, "payload");
  }
  ok(await t.finish(store, finish.done()));
  t.close(store);
});

Deno.test("close resolves a pending dequeue with no messages", async () => {
  const store = await t.open(":memory:", RELAXED);
  const pending = t.dequeue(store, 10, 1);
  await sleep(50);
  t.close(store);
  const r = ok(await orTimeout(pending, 5000, "dequeue after close"));
  assertEquals(r.u32(), 0, "n = 0");
  t.close(store); // idempotent
});

Deno.test("cancelDequeue resolves that listener's pending dequeue only", async () => {
  const store = await t.open(":memory:", RELAXED);
  const cancelled = t.dequeue(store, 10, 7);
  const other = t.dequeue(store, 10, 8);
  await sleep(20);
  t.cancelDequeue(store, 7);
  const r = ok(await orTimeout(cancelled, 5000, "cancelled dequeue"));
  assertEquals(r.u32(), 0, "n = 0");
  ok(await t.atomicWrite(store, enqueue(new Uint8Array(serialize(1)))));
  const got = ok(await orTimeout(other, 5000, "other listener"));
  assertEquals(got.u32(), 1, "the other listener still gets the message");
  t.close(store);
});

Deno.test("errors come back as error replies and exceptions", async () => {
  let thrown: unknown;
  try {
    await t.open(":memory:", '{"durability":"fast"}');
  } catch (e) {
    thrown = e;
  }
  assert(thrown instanceof Error, "open with a bad option throws");
  assert(
    typeof (thrown as { code?: unknown }).code === "string",
    "with a KVQ_* code",
  );
  const store = await t.open(":memory:", "");
  const malformed = await orTimeout(
    Promise.resolve(t.snapshotRead(store, new Uint8Array([1, 2]))),
    5000,
    "a malformed read",
  );
  assert(errorCode(malformed).startsWith("KVQ_"), "a malformed read");
  // Answered at once by the library, yet through the completion thread:
  // a reply that reached JavaScript before the call was registered would
  // leave this promise pending.
  const empty = await orTimeout(
    t.atomicWrite(store, new Uint8Array(0)),
    5000,
    "an empty request",
  );
  assert(errorCode(empty).startsWith("KVQ_"), "an empty request");
  t.close(store);
  const closed = await t.atomicWrite(
    store,
    setBytes(stringKey("x"), new Uint8Array([1])),
  );
  assertEquals(errorCode(closed), "KVQ_CLOSED", "a write after close");
});

Deno.test("the event loop keeps running while a call waits", async () => {
  const store = await t.open(":memory:", RELAXED);
  const pending = t.dequeue(store, 1, 1);
  let ticks = 0;
  const start = performance.now();
  while (performance.now() - start < 100) {
    await sleep(1);
    ticks++;
  }
  assert(ticks > 20, `timers ran while dequeue waited (${ticks} ticks)`);
  t.close(store);
  ok(await pending);
});

Deno.test("open's strings cross as UTF-8; empty options are the defaults", async () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/café-ü-😀.db`;
  // An empty string goes as a zero-length view of a real buffer, as an
  // empty request does: the engine reads it as "no options".
  const store = await t.open(path, "");
  assert(Deno.statSync(path).isFile, "the file has the non-ASCII name");
  t.close(store);
  let message = "";
  try {
    await t.open(path, '{"leaseMs":1}');
  } catch (e) {
    message = (e as Error).message;
  }
  assert(message.includes("leaseMs"), `options reached the engine: ${message}`);
  Deno.removeSync(dir, { recursive: true });
});

Deno.test("every call on a closed store answers at once", async () => {
  for (const path of [":memory:", Deno.makeTempFileSync({ suffix: ".db" })]) {
    const store = await t.open(path, "");
    t.close(store);
    const soon = <T>(p: T | Promise<T>, what: string) =>
      orTimeout(Promise.resolve(p), 5000, `${path}: ${what}`);
    const read = await soon(
      t.snapshotRead(store, readOne(stringKey("a"))),
      "a read",
    );
    assertEquals(errorCode(read), "KVQ_CLOSED", `${path}: a read`);
    // A listener's loop ends on an empty batch, as when close ends a wait.
    const batch = ok(await soon(t.dequeue(store, 1, 1), "a dequeue"));
    assertEquals(batch.u32(), 0, `${path}: a dequeue gets no messages`);
    assert(batch.done, `${path}: nothing after the count`);
    const finished = ok(
      await soon(t.finish(store, new WireWriter().u32(0).done()), "a finish"),
    );
    assert(finished.done, `${path}: a finish answers with the status only`);
    let code: unknown;
    try {
      t.watch(
        store,
        new WireWriter().u8(0).u32(1).bytes(stringKey("a")).done(),
      );
    } catch (e) {
      code = (e as { code?: unknown }).code;
    }
    assertEquals(code, "KVQ_CLOSED", `${path}: a watch throws`);
  }
});
