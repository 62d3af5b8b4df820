/**
 * One attempt of a named queue's message: the handler called with the
 * value and its {@link MessageInfo}, under the queue's timeout, with a
 * signal that aborts on the timeout or when the listener stops. Shared by
 * the queue kept as keys (queue.ts) and the queue kept in the engine
 * (native.ts), so a handler sees the same thing on every store.
 *
 * @module
 */

import { deserializePayload } from "../value.ts";
import { dispatchTyped, type TypedHandlers } from "./dispatch.ts";
import { errorText, QueueTimeoutError } from "./errors.ts";

/** What a handler learns about the delivery, its second argument. */
export interface MessageInfo {
  /** The message id (what the enqueue returned). */
  id: string;
  /** The queue's name. */
  queue: string;
  /** This attempt's number: 1 for the first delivery. */
  attempt: number;
  /** When the message was enqueued. */
  enqueuedAt: Date;
  /** Its ordering group, or null. */
  group: string | null;
  /** Its sequence number in the group (1, 2, …), or null. */
  seq: number | null;
  /**
   * Aborts when the attempt's timeout passes (reason: a
   * {@link QueueTimeoutError}) or the listener stops.
   */
  signal: AbortSignal;
}

/** A handler of a named queue: the message's value and its metadata. */
export type MessageHandler<T = unknown> = (
  value: T,
  info: MessageInfo,
) => unknown;

/**
 * One listener's attempt timeouts, on one timer: every attempt of a queue
 * has the same `timeoutMs`, so their deadlines come in the order they were
 * set, and a doubly linked list in that order takes an attempt in and out
 * in constant time. A timer per attempt costs more than the rest of a
 * short delivery.
 */
export class Timeouts {
  #ms: number;
  #head: Deadline | null = null;
  #tail: Deadline | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;

  /** Timeouts of `ms` milliseconds. */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Calls `fire` in `ms` unless {@link cancel}led first. */
  add(fire: () => void): Deadline {
    const d: Deadline = {
      at: Date.now() + this.#ms,
      fire,
      prev: this.#tail,
      next: null,
    };
    if (this.#tail === null) this.#head = d;
    else this.#tail.next = d;
    this.#tail = d;
    if (this.#timer === undefined) this.#arm(d.at);
    return d;
  }

  /** Forgets a deadline that has not fired. */
  cancel(d: Deadline): void {
    if (d.prev === null && this.#head !== d) return;
    if (d.prev === null) this.#head = d.next;
    else d.prev.next = d.next;
    if (d.next === null) this.#tail = d.prev;
    else d.next.prev = d.prev;
    d.prev = d.next = null;
    if (this.#head === null && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#armedAt = Infinity;
    }
  }

  #arm(at: number): void {
    this.#armedAt = at;
    this.#timer = setTimeout(() => this.#due(), Math.max(0, at - Date.now()));
  }

  #due(): void {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = Date.now();
    while (this.#head !== null && this.#head.at <= now) {
      const d = this.#head;
      this.cancel(d);
      d.fire();
    }
    if (this.#head !== null && this.#timer === undefined) {
      this.#arm(this.#head.at);
    }
  }
}

/** An attempt's place in {@link Timeouts}. */
interface Deadline {
  at: number;
  fire: () => void;
  prev: Deadline | null;
  next: Deadline | null;
}

/** How an attempt ended: done, or failed with an error. */
export type AttemptResult = { ok: true } | { ok: false; error: unknown };

const OK: AttemptResult = { ok: true };

/**
 * Runs one attempt of message `info` (without its signal) carrying
 * `payload`. A handler that returns without a promise (or throws) is done
 * at once: the result is returned as it is. Otherwise the promise resolves
 * when the handler's promise settles or, at the latest, when `timeoutMs`
 * passes (the handler's signal then aborts and the attempt counts as
 * failed while the handler may run on), as `timeouts` (the listener's, of
 * `timeoutMs`) tells. A failure is logged with the attempt's number out of
 * `maxAttempts`.
 */
export function attempt<T>(
  handler: MessageHandler<T> | TypedHandlers<MessageInfo>,
  payload: Uint8Array,
  info: Omit<MessageInfo, "signal">,
  limits: { timeoutMs: number; maxAttempts: number },
  stopped: AbortSignal,
  timeouts: Timeouts,
): AttemptResult | Promise<AttemptResult> {
  // The signal is made only when the handler reads it: most handlers
  // never do, and an AbortController with a listener on the listener's
  // own signal costs more than the rest of a delivery.
  let controller: AbortController | undefined;
  let timedOut: QueueTimeoutError | undefined;
  const onStop = () => controller?.abort(stopped.reason);
  const full: MessageInfo = {
    ...info,
    get signal(): AbortSignal {
      if (controller === undefined) {
        controller = new AbortController();
        if (timedOut !== undefined) controller.abort(timedOut);
        else if (stopped.aborted) controller.abort(stopped.reason);
        else stopped.addEventListener("abort", onStop, { once: true });
      }
      return controller.signal;
    },
  };
  const failed = (error: unknown): AttemptResult => {
    console.error(
      `kvq queue "${info.queue}": message ${info.id} failed (attempt ${info.attempt} of ${limits.maxAttempts}): ${
        errorText(error)
      }`,
    );
    return { ok: false, error };
  };
  const release = () => {
    if (controller !== undefined) {
      stopped.removeEventListener("abort", onStop);
    }
  };
  let returned: unknown;
  try {
    const value = deserializePayload(payload) as T;
    returned = typeof handler === "function"
      ? handler(value, full)
      : dispatchTyped(handler, value, full, `queue "${info.queue}"`);
  } catch (error) {
    release();
    return failed(error);
  }
  if (!(returned instanceof Promise)) {
    release();
    return OK;
  }
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      resolve(result.ok ? result : failed(result.error));
    };
    const deadline = timeouts.add(() => {
      timedOut = new QueueTimeoutError(info.queue, info.id, limits.timeoutMs);
      controller?.abort(timedOut);
      settle({ ok: false, error: timedOut });
    });
    returned.then(
      () => settle(OK),
      (error) => settle({ ok: false, error }),
    ).finally(() => {
      timeouts.cancel(deadline);
      release();
    });
  });
}
