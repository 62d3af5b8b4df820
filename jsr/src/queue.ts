/**
 * The `listenQueue` loop. Shaped like Deno's (take a message, run the
 * handler without blocking the loop, report the outcome), with kvq's
 * batching: one dequeue asks for as many messages as there are free
 * handler slots, and outcomes are reported together, once per macrotask,
 * through one finish call. At most `concurrency` handlers run at once.
 *
 * Stopping (the signal aborts, or the database closes, even from inside a
 * handler) starts no further message: the rest of the batch being started
 * is released (back to the queue, the attempt not counted). On close, the
 * listener also sends, before the native store closes (the engine handles
 * requests in order, so they are recorded): the outcomes of handlers that
 * already finished, and a release of every message whose handler is still
 * running, so that another listener gets it at once. Those handlers run on;
 * their outcomes cannot be recorded any more and are dropped.
 *
 * The same loop serves a named queue kept in the engine
 * (jsr/src/queues/native.ts): given a {@link NamedDispatch}, it dequeues
 * from that queue, reads each message's metadata, and reports the
 * dispatch's verdict on a failure (retry when, or dead).
 *
 * @module
 */

import type { KvState } from "./state.ts";
import { checkReply } from "./transport.ts";
import type { QueueHandler } from "./types.ts";
import { deserializePayload } from "./value.ts";
import { encodeFinish, Outcome, Reply, type Verdict } from "./wire.ts";
import { later } from "./later.ts";

const ABORTED: unique symbol = Symbol("aborted");

/** The most messages one dequeue asks for (the engine's own cap). */
const MAX_DEQUEUE = 1024;

// Each listener's id in the engine, so stopping one cancels only its own
// waiting dequeue. Nonzero: 0 is the engine's anonymous listener.
let lastListenerId = 0;
function nextListenerId(): number {
  lastListenerId = lastListenerId >= 0xffff_ffff ? 1 : lastListenerId + 1;
  return lastListenerId;
}

/** A named message's metadata, as the engine hands it out. */
export interface NamedMeta {
  /** The message id. */
  id: string;
  /** Attempts already made. */
  attempts: number;
  /** When it was enqueued (epoch ms). */
  enqueuedAt: number;
  /** Its ordering group, or null. */
  group: string | null;
  /** Its sequence number in the group, or null. */
  seq: number | null;
}

/** How a listener of a named queue runs a message. */
export interface NamedDispatch {
  /** The queue's name, UTF-8. */
  queue: Uint8Array;
  /** How long its claims last, in ms (0: the store's lease). */
  leaseMs: number;
  /**
   * Runs the handler: null when it succeeded, else the verdict; at once
   * when the handler returned without a promise.
   */
  run(
    payload: Uint8Array,
    meta: NamedMeta,
  ): Verdict | null | Promise<Verdict | null>;
}

const utf8 = new TextDecoder();

function readMeta(r: Reply): NamedMeta {
  const id = utf8.decode(r.bytes());
  const attempts = r.u32();
  const enqueuedAt = r.f64();
  const grouped = r.u8() === 1;
  const group = grouped ? utf8.decode(r.bytes()) : null;
  const seq = grouped ? r.f64() : null;
  return { id, attempts, enqueuedAt, group, seq };
}

/** One `listenQueue` call: its loop, its running handlers, its outcomes. */
export class QueueListener {
  #s: KvState;
  #id = nextListenerId();
  #handler: unknown;
  #concurrency: number;
  #signal: AbortSignal | undefined;
  #running = 0;
  #stopped = false;
  #wake: (() => void) | null = null;
  #abort: ((v: typeof ABORTED) => void) | null = null;
  #named: NamedDispatch | undefined;
  #tokens: number[] = [];
  #outcomes: Outcome[] = [];
  #verdicts: (Verdict | null)[] = [];
  // Tokens of the messages whose handlers are running.
  #held = new Set<number>();
  // The batch being started: its reply, read up to the next message, and
  // how many messages are left in it.
  #batch: Reply | null = null;
  #batchLeft = 0;
  #flushScheduled = false;
  #finishing = new Set<Promise<void>>();
  /** The dequeue an abort left in flight, until it answers. */
  #late: Promise<void> | undefined;
  // Created once per listener so that reporting allocates no closure.
  #flushLater = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };
  #onAbort = (): void => {
    // Synchronously, so that the engine drops our waiting dequeue before
    // any enqueue the caller makes next could be claimed for it.
    if (!this.#stopped && !this.#s.closed) {
      this.#s.transport.cancelDequeue(this.#s.store, this.#id);
    }
    this.#stopped = true;
    this.#wakeLoop();
    this.#abort?.(ABORTED);
  };
  // Runs while the database closes, before its native store does.
  #onClose = (): void => {
    this.#onAbort();
    this.#releaseBatch();
    for (const token of this.#held) this.#report(token, Outcome.Released);
    this.#held.clear();
    this.#flush();
  };

  /**
   * Prepares a listener; `handler` is called as given (a non-function
   * makes every delivery fail, as in Deno).
   */
  constructor(
    s: KvState,
    handler: unknown,
    concurrency: number,
    signal: AbortSignal | undefined,
    named?: NamedDispatch,
  ) {
    this.#named = named;
    this.#s = s;
    this.#handler = handler;
    this.#concurrency = concurrency;
    this.#signal = signal;
  }

  /**
   * Runs until the database closes or the signal aborts, then waits for
   * outcome reports already sent (not for running handlers, as Deno).
   */
  async run(): Promise<void> {
    const signal = this.#signal;
    let aborted: Promise<typeof ABORTED> | undefined;
    if (signal !== undefined) {
      aborted = new Promise((resolve) => this.#abort = resolve);
      signal.addEventListener("abort", this.#onAbort, { once: true });
    }
    this.#s.closeHooks.add(this.#onClose);
    try {
      await this.#loop(aborted);
    } finally {
      signal?.removeEventListener("abort", this.#onAbort);
      this.#s.closeHooks.delete(this.#onClose);
    }
    // The listener ends with nothing of its own in flight: not even the
    // dequeue an abort cut short (the cancel answers it at once).
    await this.#late;
    this.#flush();
    for (const p of this.#finishing) await p;
  }

  async #loop(aborted: Promise<typeof ABORTED> | undefined): Promise<void> {
    const s = this.#s;
    while (!this.#stopped && !s.closed) {
      const want = this.#concurrency - this.#running;
      if (want <= 0) {
        await new Promise<void>((resolve) => this.#wake = resolve);
        continue;
      }
      // The engine hands out at most MAX_DEQUEUE at a time anyway; asking
      // for more would only overflow the binding's u32.
      const max = Math.min(want, MAX_DEQUEUE);
      const named = this.#named;
      const dequeued = named === undefined
        ? s.transport.dequeue(s.store, max, this.#id)
        : s.transport.dequeueNamed!(
          s.store,
          max,
          this.#id,
          named.queue,
          named.leaseMs,
        );
      const reply = aborted === undefined
        ? await dequeued
        : await Promise.race([dequeued, aborted]);
      if (reply === ABORTED) {
        // A batch the engine handed out before the cancel reached it goes
        // straight back to the queue, its attempt not counted.
        this.#late = dequeued.then((late) => this.#giveBack(late), () => {});
        return;
      }
      if (reply[0] !== 0) {
        if (s.closed) return;
        checkReply(reply);
      }
      const r = new Reply(reply);
      const n = r.u32();
      if (n === 0) return;
      this.#batch = r;
      this.#batchLeft = n;
      // A handler may stop the listener (close, abort): check before each.
      while (this.#batchLeft > 0 && !this.#stopped && !s.closed) {
        this.#batchLeft--;
        const token = r.f64();
        const payload = r.bytes();
        if (named !== undefined) {
          const meta = readMeta(r);
          this.#running++;
          this.#held.add(token);
          this.#dispatchNamed(named, token, payload, meta);
          continue;
        }
        let value: unknown;
        try {
          value = deserializePayload(payload);
        } catch (error) {
          console.error("Exception in queue handler", error);
          this.#report(token, Outcome.Failed);
          continue;
        }
        this.#running++;
        this.#held.add(token);
        this.#dispatch(token, value);
      }
      this.#releaseBatch();
    }
  }

  async #dispatch(token: number, value: unknown): Promise<void> {
    let ok = false;
    try {
      const result = (this.#handler as QueueHandler)(value);
      // Deno awaits only native promises; other thenables count as done.
      if (result instanceof Promise) await result;
      ok = true;
    } catch (error) {
      console.error("Exception in queue handler", error);
    }
    this.#running--;
    // Not held any more: released when the database closed.
    if (this.#held.delete(token)) {
      this.#report(token, ok ? Outcome.Handled : Outcome.Failed);
    }
    this.#wakeLoop();
  }

  #dispatchNamed(
    named: NamedDispatch,
    token: number,
    payload: Uint8Array,
    meta: NamedMeta,
  ): void {
    let ran: Verdict | null | Promise<Verdict | null>;
    try {
      ran = named.run(payload, meta);
    } catch (error) {
      ran = { at: Date.now(), error: String(error) };
    }
    if (ran instanceof Promise) {
      ran.then(
        (verdict) => this.#doneNamed(token, verdict),
        (error) =>
          this.#doneNamed(token, { at: Date.now(), error: String(error) }),
      );
    } else {
      this.#doneNamed(token, ran);
    }
  }

  #doneNamed(token: number, verdict: Verdict | null): void {
    this.#running--;
    if (this.#held.delete(token)) {
      this.#report(token, Outcome.Handled, verdict);
    }
    this.#wakeLoop();
  }

  /** Skips one message of a batch; its token. */
  #skip(r: Reply): number {
    const token = r.f64();
    r.bytes();
    if (this.#named !== undefined) readMeta(r);
    return token;
  }

  /** Releases the messages of the current batch not started yet. */
  #releaseBatch(): void {
    const r = this.#batch;
    if (r === null) return;
    this.#batch = null;
    for (; this.#batchLeft > 0; this.#batchLeft--) {
      this.#report(this.#skip(r), Outcome.Released);
    }
  }

  #wakeLoop(): void {
    const wake = this.#wake;
    if (wake !== null) {
      this.#wake = null;
      wake();
    }
  }

  #report(
    token: number,
    outcome: Outcome,
    verdict: Verdict | null = null,
  ): void {
    this.#tokens.push(token);
    this.#outcomes.push(outcome);
    this.#verdicts.push(verdict);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      later(this.#flushLater);
    }
  }

  #giveBack(reply: Uint8Array): void {
    if (reply[0] !== 0) return;
    const r = new Reply(reply);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      this.#report(this.#skip(r), Outcome.Released);
    }
  }

  #flush(): void {
    const n = this.#tokens.length;
    if (n === 0) return;
    const s = this.#s;
    // After close an outcome cannot be recorded (the close hook sent every
    // outcome known then); the engine released the message at close.
    if (s.closed) {
      this.#tokens.length = 0;
      this.#outcomes.length = 0;
      this.#verdicts.length = 0;
      return;
    }
    const verdicts = this.#named === undefined ? undefined : this.#verdicts;
    const request = encodeFinish(this.#tokens, this.#outcomes, n, verdicts);
    this.#tokens.length = 0;
    this.#outcomes.length = 0;
    this.#verdicts.length = 0;
    const p = s.transport.finish(s.store, request).then(
      (reply) => {
        if (reply[0] !== 0 && !s.closed) checkReply(reply);
      },
    ).catch((error) => {
      // Not lost: the engine keeps the outcomes and records them on its
      // next turns (at least every eighth of the lease while the storage
      // fails, also while closing) for as long as their leases hold. So
      // nothing is sent again from here.
      if (!s.closed) {
        console.error(
          "Failed to finish queue messages (kvq tries again while their leases hold)",
          error,
        );
      }
    }).finally(() => this.#finishing.delete(p));
    this.#finishing.add(p);
  }
}
