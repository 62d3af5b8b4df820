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

/** How an attempt ended: done, or failed with an error. */
export type AttemptResult = { ok: true } | { ok: false; error: unknown };

/**
 * Runs one attempt of message `info` (without its signal) carrying
 * `payload`; resolves when the handler finishes or, at the latest, when
 * `timeoutMs` passes (the handler's signal then aborts and the attempt
 * counts as failed while the handler may run on). A failure is logged
 * with the attempt's number out of `maxAttempts`.
 */
export function attempt<T>(
  handler: MessageHandler<T> | TypedHandlers<MessageInfo>,
  payload: Uint8Array,
  info: Omit<MessageInfo, "signal">,
  limits: { timeoutMs: number; maxAttempts: number },
  stopped: AbortSignal,
): Promise<AttemptResult> {
  const controller = new AbortController();
  const onStop = () => controller.abort(stopped.reason);
  stopped.addEventListener("abort", onStop, { once: true });
  const full: MessageInfo = { ...info, signal: controller.signal };
  const report = (error: unknown) =>
    console.error(
      `kvq queue "${info.queue}": message ${info.id} failed (attempt ${info.attempt} of ${limits.maxAttempts}): ${
        errorText(error)
      }`,
    );
  return new Promise<AttemptResult>((resolve) => {
    let settled = false;
    const settle = (result: AttemptResult) => {
      if (settled) return;
      settled = true;
      if (!result.ok) report(result.error);
      resolve(result);
    };
    const timer = setTimeout(() => {
      const error = new QueueTimeoutError(
        info.queue,
        info.id,
        limits.timeoutMs,
      );
      controller.abort(error);
      settle({ ok: false, error });
    }, limits.timeoutMs);
    (async () => {
      const value = deserializePayload(payload) as T;
      if (typeof handler === "function") {
        await handler(value, full);
      } else {
        await dispatchTyped(handler, value, full, `queue "${info.queue}"`);
      }
    })().then(
      () => settle({ ok: true }),
      (error) => settle({ ok: false, error }),
    ).finally(() => {
      clearTimeout(timer);
      stopped.removeEventListener("abort", onStop);
    });
  });
}
