/**
 * What a queue does when a delivery ends: the move after a success, the
 * move after a failed attempt (a retry, or the message's dead letters),
 * and whether a failure would be the last attempt. The queue on any
 * Deno.Kv follows Deno ({@link denoPolicy}: the message's own backoff
 * schedule and `keysIfUndelivered`); named queues bring their own
 * (jsr/src/queues/policy.ts: attempts, backoff with jitter, dead-letter
 * records, ordering groups).
 *
 * @module
 */

import type { Move } from "./commits.ts";
import type { Layout } from "./layout.ts";
import { ackMove, failMove, isLastAttempt, type Lease } from "./moves.ts";

/** How a queue moves a message when its delivery ends. */
export interface Policy {
  /** The move after a successful delivery. */
  ack(lease: Lease): Move | Promise<Move>;
  /**
   * The move after a failed attempt: `error` is what the handler threw
   * (or a timeout, or the expiry of a dead holder's lease); `payload` the
   * body (null when not read); `withoutDeadLetters` asks to drop the
   * message without writing dead letters (the store refused them).
   */
  fail(
    lease: Lease,
    now: number,
    payload: Uint8Array | null,
    error: unknown,
    withoutDeadLetters: boolean,
  ): Move | Promise<Move>;
  /** Whether a failed attempt of `lease` with `error` ends the message. */
  isLast(lease: Lease, error: unknown): boolean;
  /**
   * Whether the acknowledgement of `lease` may hand a next message on to
   * this instance (consumer.ts HandOn): the consumer then keeps the
   * handler slot for it. Never, when absent.
   */
  handsOn?(lease: Lease): boolean;
}

/** Deno's policy: the message's backoff schedule and dead-letter keys. */
export function denoPolicy(layout: Layout): Policy {
  return {
    ack: (lease) => ackMove(layout, lease),
    fail: (lease, now, payload, _error, withoutDeadLetters) =>
      failMove(layout, lease, now, payload, withoutDeadLetters),
    isLast: (lease) => isLastAttempt(lease),
  };
}
