/**
 * Keeps the event loop polling, instead of sleeping, while a short engine
 * call (a write, a finish, an in-memory read) is in flight.
 *
 * The engine answers from its own thread. If the JavaScript thread went to
 * sleep meanwhile, the answer must wake it: on a virtual machine that costs
 * 30-50 us, a fifth of a whole fsync'd commit, and a program that awaits
 * each write pays it every time. With a `setImmediate` pending, the event
 * loop polls without blocking, so the answer is picked up at once.
 *
 * Bounded on purpose: the loop stays awake only while such a call is in
 * flight and for at most {@link WINDOW_MS} after the latest one began. A
 * slow disk, or an idle program, costs no CPU beyond that window; long
 * waits (a listener's dequeue, a watch) never count.
 *
 * Only where it pays: a transport opts in with `keepLoopAwake`. Measured in
 * one process, alternating blocks of 400 awaited sets on a file: Node
 * 4,800 -> 5,900/s; Bun and Deno (FFI) lose 2-20% instead, their loops
 * already answer quickly or compete with the reply's own thread.
 *
 * @module
 */

/** How long after the latest call began the loop may stay awake, in ms. */
const WINDOW_MS = 1;

const setImmediateFn = (globalThis as {
  setImmediate?: (f: () => void) => unknown;
}).setImmediate;

let inFlight = 0;
let until = 0;
let polling = false;

function turn(): void {
  if (inFlight > 0 && performance.now() < until) {
    setImmediateFn!(turn);
  } else {
    polling = false;
  }
}

function settled(): void {
  inFlight--;
}

/** What decides whether the loop is kept awake: the transport's choice. */
export interface AwakePolicy {
  /** Whether keeping the loop polling pays on this runtime. */
  readonly keepLoopAwake?: boolean;
}

/**
 * Keeps the loop awake while `call` is pending (see the module doc), if
 * `policy` asks for it, and returns `call` unchanged. An answer that is
 * already there (a file read) and a runtime without `setImmediate` are left
 * alone.
 */
export function awaitAwake<T>(
  policy: AwakePolicy,
  call: Promise<T>,
): Promise<T>;
export function awaitAwake<T>(
  policy: AwakePolicy,
  call: T | Promise<T>,
): T | Promise<T>;
export function awaitAwake<T>(
  policy: AwakePolicy,
  call: T | Promise<T>,
): T | Promise<T> {
  if (
    !policy.keepLoopAwake || setImmediateFn === undefined ||
    !(call instanceof Promise)
  ) {
    return call;
  }
  inFlight++;
  until = performance.now() + WINDOW_MS;
  call.then(settled, settled);
  if (!polling) {
    polling = true;
    setImmediateFn(turn);
  }
  return call;
}

/** Calls in flight and whether the loop is being kept awake (for tests). */
export function awakeState(): { inFlight: number; polling: boolean } {
  return { inFlight, polling };
}
