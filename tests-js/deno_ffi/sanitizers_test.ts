/**
 * `deno test`'s sanitizers on tests that use kvq: every test here turns the
 * op, resource and exit sanitizers on itself (Deno 2.9 leaves the first two
 * off unless asked), so a test that opens, uses and closes databases must
 * leave nothing behind: not the library kvq loaded (Deno.dlopen), not its
 * completion callback (UnsafeCallback.threadSafe) or the op that keeps it,
 * not a pending call. Opening again after that loads them again.
 *
 *     node_modules/.bin/deno test --allow-ffi --allow-read --allow-write \
 *       --allow-env tests-js/deno_ffi/sanitizers_test.ts
 *
 * @module
 */

import { openKv } from "../../jsr/mod.ts";
import { assert, assertEquals } from "../harness/assert.ts";

/** A test with every sanitizer on, whatever the command line says. */
function sanitized(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name,
    fn,
    sanitizeOps: true,
    sanitizeResources: true,
    sanitizeExit: true,
  });
}

function tempFile(): string {
  return Deno.makeTempFileSync({ prefix: "kvq-sanitizers-", suffix: ".db" });
}

sanitized("open, write, read and close an in-memory database", async () => {
  const kv = await openKv(":memory:");
  await kv.set(["a"], 1);
  assertEquals((await kv.get(["a"])).value, 1);
  kv.close();
});

sanitized("open, write, list and close a file database", async () => {
  const path = tempFile();
  const kv = await openKv(path);
  await kv.atomic().set(["k", 1], "x").set(["k", 2], "y").commit();
  const keys = [];
  for await (const e of kv.list({ prefix: ["k"] })) keys.push(e.key);
  assertEquals(keys, [["k", 1], ["k", 2]]);
  kv.close();
  Deno.removeSync(path);
});

sanitized("a queue listener gets a message, then close ends it", async () => {
  const kv = await openKv(":memory:");
  const got = Promise.withResolvers<unknown>();
  const listener = kv.listenQueue((message) => got.resolve(message));
  await kv.enqueue({ job: 1 });
  assertEquals(await got.promise, { job: 1 });
  kv.close();
  await listener;
});

sanitized("a delayed message and a retried one, on a file", async () => {
  const path = tempFile();
  const kv = await openKv(path);
  let attempts = 0;
  const done = Promise.withResolvers<void>();
  const listener = kv.listenQueue((message) => {
    if (message === "retry" && ++attempts === 1) throw new Error("once");
    if (message === "retry") done.resolve();
  });
  await kv.enqueue("retry", { backoffSchedule: [10] });
  await kv.enqueue("late", { delay: 20 });
  await done.promise;
  kv.close();
  await listener;
  Deno.removeSync(path);
});

sanitized("a watch sees a change; cancelling it and closing", async () => {
  const kv = await openKv(":memory:");
  const reader = kv.watch([["w"]]).getReader();
  const first = await reader.read();
  assertEquals(first.value?.[0].value, null);
  await kv.set(["w"], "changed");
  let seen: unknown = null;
  while (seen !== "changed") seen = (await reader.read()).value?.[0].value;
  await reader.cancel();
  kv.close();
});

sanitized("closing the database ends a watch that is waiting", async () => {
  const kv = await openKv(":memory:");
  const reader = kv.watch([["w"]]).getReader();
  await reader.read();
  const next = reader.read();
  kv.close();
  assert((await next).done, "the stream ends with the database");
});

sanitized(
  "a listener stopped by its signal, with the database open",
  async () => {
    const kv = await openKv(":memory:");
    const stop = new AbortController();
    const listener = kv.listenQueue(() => {}, { signal: stop.signal });
    await kv.set(["x"], 1);
    stop.abort();
    await listener;
    kv.close();
  },
);

sanitized("two databases at once, closed in turn, then a third", async () => {
  const a = await openKv(":memory:");
  const b = await openKv(tempFile());
  await a.set(["n"], 1);
  await b.set(["n"], 2);
  a.close();
  // The library must stay usable while b is open.
  assertEquals((await b.get(["n"])).value, 2);
  b.close();
  const c = await openKv(":memory:");
  assertEquals((await c.get(["n"])).value, null);
  c.close();
});

sanitized("a failed open leaves nothing behind either", async () => {
  let error: unknown;
  try {
    await openKv(":memory:", { leaseMs: 1 });
  } catch (e) {
    error = e;
  }
  assert(error instanceof Error, "openKv rejects a lease under 30 ms");
});

sanitized("using: the database closes with its scope", async () => {
  await using kv = await openKv(":memory:");
  await kv.set(["u"], true);
});
