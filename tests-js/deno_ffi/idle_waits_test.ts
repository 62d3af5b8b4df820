/**
 * Idle waits must not use up Deno's blocking pool (32 threads): 40 idle
 * watch streams and 10 idle listeners, then a write and a read still answer
 * at once, and close ends them all.
 *
 * @module
 */

import { openKv } from "../../jsr/mod.ts";

Deno.test("50 idle watches and listeners do not stall a write", async () => {
  const kv = await openKv(":memory:");
  const readers: ReadableStreamDefaultReader<unknown>[] = [];
  for (let i = 0; i < 40; i++) {
    const reader = kv.watch([["idle", i]]).getReader();
    await reader.read(); // the initial state; the next read waits
    readers.push(reader);
  }
  const pending = readers.map((r) => r.read());
  const stop = new AbortController();
  const listeners = Array.from(
    { length: 10 },
    () => kv.listenQueue(() => {}, { signal: stop.signal }),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("a write stalled")), 2000);
  });
  try {
    await Promise.race([kv.set(["x"], 1), stalled]);
    const got = await Promise.race([kv.get(["x"]), stalled]);
    if (got.value !== 1) throw new Error(`read back ${got.value}`);
  } finally {
    clearTimeout(timer);
  }
  stop.abort();
  await Promise.all(listeners);
  kv.close();
  const ends = await Promise.all(pending);
  if (!ends.every((e) => e.done)) throw new Error("a watch did not end");
});
