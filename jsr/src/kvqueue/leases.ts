/**
 * The leases one queue instance holds: renewed while their handlers run,
 * and ended with the handler's outcome (ack, fail, release).
 *
 * All writes go through one pump that runs one round at a time: a round
 * gathers every outcome reported since the last one and every lease due
 * for renewal, and commits them together (commits.ts). One round at a time
 * means a lease is never in two commits at once, so each commit checks the
 * versionstamp the previous one returned.
 *
 * @module
 */

import {
  busyDelay,
  type ChecksLimit,
  commitMoves,
  isBusy,
  isRefusal,
  type Move,
  type MoveResult,
} from "./commits.ts";
import type { Layout } from "./layout.ts";
import { type Lease, releaseMove, renewMove } from "./moves.ts";
import type { Policy } from "./policy.ts";
import type { KvStore } from "./types.ts";
import { later } from "../later.ts";

/** How a delivery ended. */
export type Outcome = "ok" | "failed" | "released";

// Why a round failed: a busy store (retried soon, quietly) or an error.
type Failure = "busy" | "error" | null;

interface Work {
  held: Held;
  renewal: { key: Lease["key"]; expiresMs: number } | null;
}

interface Held {
  lease: Lease;
  payload: Uint8Array | null;
  outcome: Outcome | null;
  recorded: (() => void) | null;
  dropDeadLetters: boolean;
  /** What the failed attempt threw (for the policy's records). */
  error: unknown;
}

/** The leases held by one queue instance. */
export class LeaseTable {
  #kv: KvStore;
  #layout: Layout;
  #leaseMs: number;
  #checks: ChecksLimit;
  #policy: Policy;
  #held = new Map<string, Held>();
  #pumping = false;
  #again = false;
  #scheduled = false;
  #renewTimer: ReturnType<typeof setInterval> | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  /** Told when a lease leaves the table (its outcome written, or lost). */
  dropped: ((id: string) => void) | null = null;
  #pumpSoon = (): void => {
    this.#scheduled = false;
    this.#pump();
  };

  /**
   * A table writing to `kv`; leases last `leaseMs`; `policy` decides the
   * moves that end a delivery.
   */
  constructor(
    kv: KvStore,
    layout: Layout,
    leaseMs: number,
    checks: ChecksLimit,
    policy: Policy,
  ) {
    this.#kv = kv;
    this.#layout = layout;
    this.#leaseMs = leaseMs;
    this.#checks = checks;
    this.#policy = policy;
  }

  /** Whether message `id` is leased here. */
  has(id: string): boolean {
    return this.#held.has(id);
  }

  /** How many leases are held. */
  get size(): number {
    return this.#held.size;
  }

  /** Takes over a lease just claimed, with the message body. */
  add(lease: Lease, payload: Uint8Array | null): void {
    if (this.#stopped) return;
    this.#held.set(lease.id, {
      lease,
      payload,
      outcome: null,
      recorded: null,
      dropDeadLetters: false,
      error: undefined,
    });
    if (this.#renewTimer === undefined) {
      this.#renewTimer = setInterval(
        () => this.#pump(),
        Math.max(1, Math.floor(this.#leaseMs / 3)),
      );
    }
  }

  /**
   * Records how the delivery of `id` ended. Resolves once it is written,
   * or once there is nothing left to write (the lease was lost, or the
   * table stopped). Never rejects: failures to write are logged and
   * retried while the lease lasts. `error`: what a failed attempt threw.
   */
  finish(id: string, outcome: Outcome, error?: unknown): Promise<void> {
    const held = this.#held.get(id);
    if (held === undefined || this.#stopped) return Promise.resolve();
    if (held.outcome !== null) return new Promise((r) => queueMicrotask(r));
    held.outcome = outcome;
    held.error = error;
    const recorded = new Promise<void>((resolve) => held.recorded = resolve);
    if (!this.#scheduled) {
      this.#scheduled = true;
      later(this.#pumpSoon);
    }
    return recorded;
  }

  /**
   * Stops writing (the store is closing): timers end, the outcomes already
   * known are sent in one last commit (before the store closes, so a
   * message handled just before close() is not counted as failed), and
   * every other lease is left to expire in the store. An outcome whose
   * move must read first (a group's next message) is left to its lease.
   */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#renewTimer);
    clearTimeout(this.#retryTimer);
    const last: Move[] = [];
    const now = Date.now();
    for (const held of this.#held.values()) {
      if (held.outcome === null) continue;
      try {
        const move = this.#outcomeMove(held, now);
        if (!(move instanceof Promise)) last.push(move);
        else move.then((m) => settle(m, null), () => {});
      } catch {
        // Left to its lease, as if the outcome had not been known.
      }
    }
    if (last.length > 0) {
      commitMoves(this.#kv, this.#layout, last, this.#checks).catch(() => {});
    }
    for (const held of this.#held.values()) held.recorded?.();
    this.#held.clear();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = true;
    try {
      let failed: Failure = null;
      do {
        this.#again = false;
        failed = await this.#round();
      } while (this.#again && failed === null && !this.#stopped);
      if (failed !== null && !this.#stopped) {
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(
          () => this.#pump(),
          failed === "busy"
            ? busyDelay()
            : Math.min(1000, Math.max(10, this.#leaseMs / 10)),
        );
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#held.size === 0) {
      clearInterval(this.#renewTimer);
      this.#renewTimer = undefined;
    }
  }

  /** One round of writes; how writes failed, if any (retried later). */
  async #round(): Promise<Failure> {
    const now = Date.now();
    const work: Work[] = [];
    const pending: (Move | Promise<Move>)[] = [];
    for (const held of this.#held.values()) {
      const lease = held.lease;
      if (held.outcome !== null) {
        pending.push(this.#outcomeMove(held, now));
        work.push({ held, renewal: null });
      } else if (lease.expiresMs - now <= (this.#leaseMs * 2) / 3) {
        const expiresMs = now + this.#leaseMs;
        const renewal = renewMove(this.#layout, lease, expiresMs);
        pending.push(renewal.move);
        work.push({ held, renewal: { key: renewal.key, expiresMs } });
      }
    }
    if (pending.length === 0) return null;
    // A policy may read before it decides (a group's next message). A
    // move that hands a lease on hears its result exactly once (settled),
    // also when another move of the round could not be prepared.
    const prepared = await Promise.allSettled(pending);
    const moves: Move[] = [];
    let unprepared: { reason: unknown } | null = null;
    for (const p of prepared) {
      if (p.status === "fulfilled") moves.push(p.value);
      else unprepared ??= { reason: p.reason };
    }
    if (unprepared !== null) {
      for (const m of moves) settle(m, null);
      const { reason } = unprepared;
      console.error("kvq queue: failed to prepare updates, retrying:", reason);
      return reason instanceof Error && isBusy(reason) ? "busy" : "error";
    }
    const results = await commitMoves(
      this.#kv,
      this.#layout,
      moves,
      this.#checks,
    );
    for (let i = 0; i < moves.length; i++) settle(moves[i], results[i]);
    if (this.#stopped) return null;
    let failed: Failure = null;
    let errors = 0;
    let firstError: Error | null = null;
    for (let i = 0; i < work.length; i++) {
      const { held, renewal } = work[i];
      const result = results[i];
      const id = held.lease.id;
      if (result instanceof Error) {
        failed = failed === "error" || !isBusy(result) ? "error" : "busy";
        if (this.#onError(held, result)) {
          errors++;
          firstError ??= result;
        }
      } else if (
        result === null && renewal === null && moves[i].checks.length > 1
      ) {
        // A key the move read besides the lease changed (a group's state,
        // by an enqueue): decide again if the lease is still ours.
        const [now] = await this.#kv.getMany([held.lease.key]).catch(() => [
          null,
        ]);
        if (now?.versionstamp === held.lease.versionstamp) {
          this.#again = true;
        } else {
          this.#drop(id);
        }
      } else if (result === null) {
        // Someone else moved the message: our lease had run out.
        if (renewal !== null) {
          console.error(
            `kvq queue: the lease of message ${id} ran out before it was renewed; another listener may get the message`,
          );
        }
        this.#drop(id);
      } else if (renewal === null) {
        this.#drop(id);
      } else {
        held.lease = {
          ...held.lease,
          key: renewal.key,
          versionstamp: result,
          expiresMs: renewal.expiresMs,
        };
        // An outcome reported while the renewal was in flight goes in the
        // next round, which checks the new versionstamp.
        if (held.outcome !== null) this.#again = true;
      }
    }
    if (firstError !== null && failed === "error") {
      console.error(
        `kvq queue: failed to update ${errors} message(s), retrying:`,
        firstError,
      );
    }
    return failed;
  }

  #outcomeMove(held: Held, now: number): Move | Promise<Move> {
    switch (held.outcome) {
      case "ok":
        return this.#policy.ack(held.lease);
      case "released":
        return releaseMove(this.#layout, held.lease);
      default:
        return this.#policy.fail(
          held.lease,
          now,
          held.payload,
          held.error,
          held.dropDeadLetters,
        );
    }
  }

  // Returns whether the error is worth a log line of its own.
  #onError(held: Held, error: Error): boolean {
    if (
      held.outcome === "failed" && !held.dropDeadLetters &&
      this.#policy.isLast(held.lease, held.error) && isRefusal(error)
    ) {
      // The store refused a dead-letter key (Deno checks neither their
      // size nor their number at enqueue time): drop the message rather
      // than retry a write that can never succeed.
      console.error(
        `kvq queue: message ${held.lease.id} could not be written to its keysIfUndelivered and is dropped:`,
        error,
      );
      held.dropDeadLetters = true;
      return false;
    }
    return true;
  }

  #drop(id: string): void {
    const held = this.#held.get(id);
    if (held === undefined) return;
    this.#held.delete(id);
    this.dropped?.(id);
    held.recorded?.();
  }
}

/**
 * Tells a move its result. A callback that throws (a bug in a policy) is
 * logged, and the moves after it still hear theirs: each hands a lease on
 * or gives a slot back, and a skipped one would hold it for ever.
 */
function settle(move: Move, result: MoveResult): void {
  try {
    move.settled?.(result);
  } catch (error) {
    console.error("kvq queue: a settled move's callback failed:", error);
  }
}
