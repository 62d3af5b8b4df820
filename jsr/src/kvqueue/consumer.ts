/**
 * The consuming side of one queue instance: one loop that claims due
 * messages for all of the instance's listeners and hands each to a
 * listener with a free slot, in due order, round robin.
 *
 * The loop sleeps while nothing is due. It wakes when the wake-up key
 * changes (`watch`), when the next delayed message falls due (a timer
 * set from the earliest ready key), when a listener is added, and on the
 * poll (the backstop, also when expired leases of dead holders are
 * reclaimed: reclaim.ts).
 *
 * @module
 */

import type { QueueHandler } from "../types.ts";
import { deserializePayload } from "../value.ts";
import { busyDelay, commitMoves, isBusy } from "./commits.ts";
import { type Layout, readyRecord } from "./layout.ts";
import type { LeaseTable, Outcome } from "./leases.ts";
import { claimMove, type Lease, type ReadyEntry } from "./moves.ts";
import type { Config } from "./options.ts";
import type { Policy } from "./policy.ts";
import { reclaimExpired } from "./reclaim.ts";
import type { KvStore } from "./types.ts";
import { isClosedError, WakeWatch } from "./wake.ts";

/**
 * How a listener runs one delivery: calls `finish` once with the outcome
 * (at the latest when the returned promise settles) and resolves when the
 * handler slot is free again. Named queues pass their own (metadata,
 * timeouts, typed dispatch); without one, Deno's call is used.
 */
export type RunDelivery = (
  lease: Lease,
  payload: Uint8Array,
  finish: (outcome: Outcome, error?: unknown) => void,
) => Promise<void>;

/** One `listenQueue` call. */
export interface Listener {
  /** The handler, called as given (a non-function fails every delivery). */
  handler: unknown;
  /** Most handlers at once. */
  concurrency: number;
  /** Handlers running now. */
  running: number;
  /** Runs a delivery; Deno's call of `handler` when absent. */
  run?: RunDelivery;
}

/**
 * How an acknowledgement hands a group's next message straight on to this
 * instance (jsr/src/queues/groups.ts): the commit that acknowledges a
 * group's head leases the next message to this instance, in a handler
 * slot kept free for it since the head's handler returned, instead of
 * making it ready for any listener to list and claim. That saves a ready
 * key written and deleted, a listed entry and a claim's check per message;
 * ordering holds as before (the head leaves and the next becomes leased in
 * one commit).
 */
export interface HandOn {
  /** The holder id written into lease records. */
  readonly owner: string;
  /** How long a lease lasts, in ms. */
  readonly leaseMs: number;
  /**
   * Takes the slot kept for the message `id` just handled, if one was
   * kept: the caller must then {@link adopt} a lease into it or
   * {@link give} it back, exactly once.
   */
  take(id: string): boolean;
  /** Gives a taken slot back (nothing was handed on). */
  give(): void;
  /**
   * Delivers a lease written by the commit that handed it on, in a taken
   * slot; `payload` is the message body, read meanwhile.
   */
  adopt(lease: Lease, payload: Promise<Uint8Array | null>): void;
}

/** What a claim round found. */
interface RoundResult {
  /** More messages may be due now: claim again at once. */
  more: boolean;
  /** The due time of the earliest message not yet due, if known. */
  nextDueMs: number | null;
}

// Most ready keys one round lists.
const MAX_LIST = 500;
// Listing more than the free slots spreads the claims of competing
// processes over different keys; the factor grows while claims collide.
const MAX_SPREAD = 16;

/** Reads a KvEntry list into an array. */
async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

/** The claiming loop of one queue instance. */
export class Consumer implements HandOn {
  #kv: KvStore;
  #layout: Layout;
  #config: Config;
  #leases: LeaseTable;
  #policy: Policy;
  #owner: string;
  #onClosed: () => void;
  #listeners: Listener[] = [];
  #next = 0;
  #running: Promise<void> | null = null;
  #round: Promise<RoundResult> | null = null;
  #releasing = new Set<Promise<void>>();
  #woken = false;
  #waitingForSlot = false;
  #waiter: (() => void) | null = null;
  #spread = 1;
  #stopped = false;
  #watch: WakeWatch;
  #pollTimer: ReturnType<typeof setInterval> | undefined;
  #reclaiming: Promise<void> | null = null;
  // Slots kept free for hand-ons: by the id of the message whose
  // acknowledgement may hand on, and how many are kept or taken.
  #kept = new Set<string>();
  #reserved = 0;

  /**
   * A consumer of `kv`'s queue at `layout`; `onClosed` is called when the
   * store turns out to be closed.
   */
  constructor(
    kv: KvStore,
    layout: Layout,
    config: Config,
    leases: LeaseTable,
    policy: Policy,
    owner: string,
    onClosed: () => void,
  ) {
    this.#kv = kv;
    this.#layout = layout;
    this.#config = config;
    this.#leases = leases;
    this.#policy = policy;
    this.#owner = owner;
    this.#onClosed = onClosed;
    leases.dropped = (id) => {
      if (this.#kept.delete(id)) this.give();
    };
    this.#watch = new WakeWatch(
      kv,
      layout.wakeKey,
      () => this.#wake(),
      onClosed,
      config.pollIntervalMs,
    );
  }

  /** Adds a listener; starts the loop when it is the first. */
  add(listener: Listener): void {
    this.#listeners.push(listener);
    this.#wake();
    if (this.#running === null && !this.#stopped) {
      this.#running = this.#run().finally(() => this.#running = null);
    }
  }

  /**
   * Removes a listener. Resolves once messages claimed for it but not
   * started are back in the queue (their attempt not counted).
   */
  async remove(listener: Listener): Promise<void> {
    const i = this.#listeners.indexOf(listener);
    if (i < 0) return;
    this.#listeners.splice(i, 1);
    this.#kick();
    const round = this.#round;
    if (round !== null) await round.catch(() => {});
    await Promise.all(this.#releasing);
  }

  /** Stops for good (the store is closing): no claim, no timer. */
  stop(): void {
    this.#stopped = true;
    this.#listeners.length = 0;
    this.#kick();
  }

  /** See {@link HandOn.owner}. */
  get owner(): string {
    return this.#owner;
  }

  /** See {@link HandOn.leaseMs}. */
  get leaseMs(): number {
    return this.#config.leaseMs;
  }

  /** See {@link HandOn.take}. */
  take(id: string): boolean {
    return this.#kept.delete(id);
  }

  /** See {@link HandOn.give}. */
  give(): void {
    this.#reserved--;
    this.#slotFreed();
  }

  /** See {@link HandOn.adopt}. */
  adopt(lease: Lease, payload: Promise<Uint8Array | null>): void {
    payload.then((body) => {
      this.#reserved--;
      if (!this.#active()) {
        // Handed on as the listener stopped: no handler starts now (its
        // outcome could not be recorded); the lease lapses and another
        // listener takes the message back.
        return;
      }
      this.#leases.add(lease, body);
      this.#dispatch(lease, body);
    }, (error) => {
      // Leased but unreadable: back to the queue, not an attempt.
      this.#reserved--;
      console.error("kvq queue: failed to read a message body:", error);
      this.#leases.add(lease, null);
      this.#leases.finish(lease.id, "released");
      this.#slotFreed();
    });
  }

  /** A handler slot came free. */
  #slotFreed(): void {
    if (this.#waitingForSlot) this.#kick();
  }

  /** New messages may be due. */
  #wake(): void {
    this.#woken = true;
    this.#kick();
  }

  #kick(): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    waiter?.();
  }

  #sleep(): Promise<void> {
    return new Promise((resolve) => this.#waiter = resolve);
  }

  #active(): boolean {
    return !this.#stopped && this.#listeners.length > 0;
  }

  async #run(): Promise<void> {
    this.#watch.start();
    this.#pollTimer = setInterval(() => {
      this.#wake();
      this.#reclaim();
    }, this.#config.pollIntervalMs);
    this.#reclaim();
    try {
      while (this.#active()) {
        const free = this.#listeners.reduce(
          (n, l) => n + Math.max(0, l.concurrency - l.running),
          0,
        ) - this.#reserved;
        if (free <= 0) {
          this.#waitingForSlot = true;
          await this.#sleep();
          this.#waitingForSlot = false;
          continue;
        }
        this.#woken = false;
        let result: RoundResult;
        try {
          this.#round = this.#claim(free);
          result = await this.#round;
        } catch (error) {
          if (isClosedError(error)) {
            this.#onClosed();
            return;
          }
          if (error instanceof Error && isBusy(error)) {
            // Another process holds the store's write lock: try again soon.
            await new Promise((r) => setTimeout(r, busyDelay()));
            continue;
          }
          console.error("kvq queue: failed to claim messages:", error);
          result = { more: false, nextDueMs: null };
          this.#woken = false;
        } finally {
          this.#round = null;
        }
        if (result.more || this.#woken) continue;
        await this.#idle(result.nextDueMs);
      }
    } finally {
      clearInterval(this.#pollTimer);
      this.#watch.stop();
    }
  }

  /** Sleeps until woken, or until `dueMs`. */
  async #idle(dueMs: number | null): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (dueMs !== null) {
      timer = setTimeout(() => this.#wake(), Math.max(0, dueMs - Date.now()));
    }
    try {
      while (!this.#woken && this.#active()) await this.#sleep();
    } finally {
      clearTimeout(timer);
    }
  }

  /** One round: list due messages, claim up to `free`, dispatch them. */
  async #claim(free: number): Promise<RoundResult> {
    const kv = this.#kv;
    const layout = this.#layout;
    const now = Date.now();
    const limit = Math.min(MAX_LIST, free * this.#spread);
    const listed = await collect(kv.list({
      prefix: layout.readyPrefix,
      end: [...layout.readyPrefix, now + 1],
    }, { limit, batchSize: limit }));
    const ready: ReadyEntry[] = [];
    for (const entry of listed) {
      const parsed = layout.parse(entry.key);
      const record = readyRecord(entry.value);
      if (parsed === null || record === null) continue;
      ready.push({ id: parsed.id, dueMs: parsed.ms, entry, record });
    }
    const picked = this.#pick(ready, free);
    const expiresMs = Date.now() + this.#config.leaseMs;
    const claims = picked.map((r) =>
      claimMove(layout, r, expiresMs, this.#owner)
    );
    const [results, payloads] = await Promise.all([
      commitMoves(
        kv,
        layout,
        claims.map((c) => c.move),
        this.#config.checks,
      ),
      this.#readPayloads(picked.map((r) => r.id)).catch((e: Error) => e),
    ]);
    let collisions = 0;
    let error: Error | null = null;
    for (let i = 0; i < picked.length; i++) {
      const result = results[i];
      if (result === null) {
        collisions++;
      } else if (result instanceof Error) {
        error ??= result;
      } else {
        const lease: Lease = {
          id: picked[i].id,
          key: claims[i].key,
          versionstamp: result,
          expiresMs,
          record: claims[i].record,
        };
        if (payloads instanceof Error) {
          // Claimed but unreadable: back to the queue, not an attempt.
          error ??= payloads;
          this.#leases.add(lease, null);
          this.#leases.finish(lease.id, "released");
          continue;
        }
        this.#leases.add(lease, payloads[i]);
        this.#dispatch(lease, payloads[i]);
      }
    }
    // Claims that did commit are running by now; the error is raised
    // after them.
    if (error !== null) throw error;
    this.#spread = collisions > 0
      ? Math.min(MAX_SPREAD, this.#spread * 2)
      : Math.max(1, this.#spread / 2);
    if (listed.length === limit || collisions > 0) {
      return { more: true, nextDueMs: null };
    }
    const [next] = await collect(kv.list({
      prefix: layout.readyPrefix,
      start: [...layout.readyPrefix, now + 1],
    }, { limit: 1 }));
    const parsed = next === undefined ? null : layout.parse(next.key);
    return { more: false, nextDueMs: parsed?.ms ?? null };
  }

  /**
   * The entries to claim: all when they fit; otherwise the first `free`,
   * or, while claims collide with other processes', a random `free` of
   * them (still in due order).
   */
  #pick(ready: ReadyEntry[], free: number): ReadyEntry[] {
    if (ready.length <= free) return ready;
    if (this.#spread === 1) return ready.slice(0, free);
    const chosen = new Set<number>();
    while (chosen.size < free) {
      chosen.add(Math.floor(Math.random() * ready.length));
    }
    return [...chosen].sort((a, b) => a - b).map((i) => ready[i]);
  }

  /** The bodies of messages `ids` (null where missing), 10 per read. */
  async #readPayloads(ids: string[]): Promise<(Uint8Array | null)[]> {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += 10) chunks.push(ids.slice(i, i + 10));
    const read = await Promise.all(
      chunks.map((chunk) =>
        this.#kv.getMany(chunk.map((id) => this.#layout.payload(id)))
      ),
    );
    return read.flat().map((e) =>
      e.value instanceof Uint8Array ? e.value : null
    );
  }

  /** Hands a claimed message to the next listener with a free slot. */
  #dispatch(lease: Lease, payload: Uint8Array | null): void {
    const listeners = this.#listeners;
    let listener: Listener | undefined;
    for (let k = 0; k < listeners.length; k++) {
      const l = listeners[(this.#next + k) % listeners.length];
      if (l.running < l.concurrency) {
        listener = l;
        this.#next = (this.#next + k + 1) % listeners.length;
        break;
      }
    }
    if (listener === undefined) {
      // Its listener stopped while the claim was in flight.
      const p = this.#leases.finish(lease.id, "released");
      this.#releasing.add(p);
      p.then(() => this.#releasing.delete(p));
      return;
    }
    if (payload === null) {
      console.error(
        `kvq queue: message ${lease.id} has no body under ${
          JSON.stringify(this.#layout.prefix)
        }; it is dropped`,
      );
      this.#leases.finish(lease.id, "ok");
      return;
    }
    this.#deliver(listener, lease, payload);
  }

  async #deliver(
    listener: Listener,
    lease: Lease,
    payload: Uint8Array,
  ): Promise<void> {
    listener.running++;
    let ended: Outcome | null = null;
    const finish = (outcome: Outcome, error?: unknown) => {
      if (ended !== null) return;
      ended = outcome;
      this.#leases.finish(lease.id, outcome, error);
    };
    try {
      await (listener.run ?? runDeno(listener.handler))(lease, payload, finish);
    } catch (error) {
      finish("failed", error);
    }
    finish("ok");
    if (
      ended === "ok" && this.#active() && this.#leases.has(lease.id) &&
      this.#policy.handsOn?.(lease) === true
    ) {
      // The slot stays taken until the acknowledgement knows whether it
      // hands the group's next message on (HandOn).
      this.#kept.add(lease.id);
      this.#reserved++;
    }
    listener.running--;
    this.#slotFreed();
  }

  /** Returns messages of dead holders to the queue (one scan at a time). */
  #reclaim(): void {
    if (this.#reclaiming !== null || !this.#active()) return;
    this.#reclaiming = reclaimExpired(
      this.#kv,
      this.#layout,
      this.#leases,
      this.#config.checks,
      this.#policy,
    ).then((returned) => {
      if (returned > 0) this.#wake();
    }, (error) => {
      if (isClosedError(error)) this.#onClosed();
      else console.error("kvq queue: failed to reclaim leases:", error);
    }).finally(() => this.#reclaiming = null);
  }
}

/** Deno's delivery: the value alone; errors are logged, as Deno does. */
function runDeno(handler: unknown): RunDelivery {
  return async (_lease, payload, finish) => {
    try {
      const result = (handler as QueueHandler)(deserializePayload(payload));
      // Deno awaits only native promises; other thenables count as done.
      if (result instanceof Promise) await result;
      finish("ok");
    } catch (error) {
      console.error("Exception in queue handler", error);
      finish("failed", error);
    }
  };
}
