/**
 * Keeps the event loop polling, instead of sleeping, while a short engine
 * call (a write, an in-memory read) is in flight.
 *
 * The engine answers from its own thread. If the JavaScript thread went to
 * sleep meanwhile, the answer must wake it: on a virtual machine that costs
 * 30-50 us, a fifth of a whole fsync'd commit, and a program that awaits
 * each write pays it every time. With a `setImmediate` pending, the event
 * loop polls without blocking, so the answer is picked up at once.
 *
 * Bounded on purpose: the loop stays awake only while such a call is in
 * flight and for at most {@link WINDOW_MS} after the latest one began; long
 * waits (a listener's dequeue, a watch) never count. And it rests when it
 * does not pay: calls answered only after the window, although the loop was
 * polling, mean a slow disk or, worse, a loop that takes the core the
 * engine's thread needs (a machine with no free core: awaited in-memory
 * sets on one core went from 37 us to 1 ms). Once most recent calls were
 * such (a moving share above {@link SLOW_SHARE}, weight 1/32 per call),
 * nothing is kept awake for {@link REST_MS}; then it tries again. A few slow
 * calls (start-up, a garbage collection, a checkpoint) do not add up to it.
 *
 * Handler outcomes (finish) are not counted: in a drain the loop is busy
 * anyway, and polling there measured slower (1k drain 86-104k msg/s without,
 * 50k with).
 *
 * Only where it pays: a transport opts in with `keepLoopAwake`. Measured in
 * one process, alternating blocks of 400 awaited sets on a file: Node
 * 4,800 -> 5,900/s; Bun and Deno (FFI) lose up to 25% instead, their loops
 * already answer quickly or compete with the reply's own thread.
 *
 * @module
 */

import type { Transport } from "./transport.ts";

/** How long after the latest call began the loop may stay awake, in ms. */
const WINDOW_MS = 1;
/** The moving share of slow calls (answered after the window) that rests. */
const SLOW_SHARE = 0.75;
/** Each call's weight in that share: about the last 32 calls count. */
const SLOW_WEIGHT = 1 / 32;
/** How long to stop keeping the loop awake once it did not pay, in ms. */
const REST_MS = 5000;

const setImmediateFn = (globalThis as {
  setImmediate?: (f: () => void) => unknown;
}).setImmediate;

let inFlight = 0;
let until = 0;
let polling = false;
let restUntil = 0;
let slowShare = 0;

function turn(): void {
  if (inFlight > 0 && performance.now() < until) {
    setImmediateFn?.(turn);
  } else {
    polling = false;
  }
}

/**
 * Keeps the loop awake while `call` is pending (see the module doc) and
 * returns it unchanged; an answer already there (a file read) is left
 * alone.
 */
export function keepAwakeWhile<R>(call: R): R {
  if (setImmediateFn === undefined || !(call instanceof Promise)) return call;
  const began = performance.now();
  if (began < restUntil) return call;
  const settled = () => {
    inFlight--;
    const now = performance.now();
    const slow = now - began > WINDOW_MS ? 1 : 0;
    slowShare += (slow - slowShare) * SLOW_WEIGHT;
    if (slowShare > SLOW_SHARE) {
      slowShare = 0;
      restUntil = now + REST_MS;
    }
  };
  inFlight++;
  until = began + WINDOW_MS;
  call.then(settled, settled);
  if (!polling) {
    polling = true;
    setImmediateFn(turn);
  }
  return call;
}

/**
 * The transport itself if it does not opt in (`keepLoopAwake`), else one
 * whose short calls keep the loop awake.
 */
export function awakeTransport(transport: Transport): Transport {
  if (!transport.keepLoopAwake || setImmediateFn === undefined) {
    return transport;
  }
  return {
    ...transport,
    snapshotRead: (store, request) =>
      keepAwakeWhile(transport.snapshotRead(store, request)),
    atomicWrite: (store, request) =>
      keepAwakeWhile(transport.atomicWrite(store, request)),
    atomicWriteMany: (store, request) =>
      keepAwakeWhile(transport.atomicWriteMany(store, request)),
  };
}

/** Calls in flight, whether the loop is kept awake, whether resting (for tests). */
export function awakeState(): {
  inFlight: number;
  polling: boolean;
  resting: boolean;
} {
  return { inFlight, polling, resting: performance.now() < restUntil };
}
