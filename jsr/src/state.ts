/**
 * The state one open database shares between `Kv` and the objects it hands
 * out (atomic operations, list iterators, watch streams, queue listeners).
 *
 * @module
 */

import { badResource } from "./errors.ts";
import type { NativeStore, Transport } from "./transport.ts";
import { WriteBatcher } from "./write_batch.ts";

/**
 * The state of each of kvq's own `Kv`s, for code that is given a `Kv` as
 * any store (named queues: queues/queue.ts). Not a member of `Kv`, so its
 * public surface stays Deno's.
 */
const states = new WeakMap<object, KvState>();

/** Records `kv`'s state (its constructor does). */
export function setStateOf(kv: object, state: KvState): void {
  states.set(kv, state);
}

/** The state of `kv` if it is kvq's own `Kv`. */
export function stateOf(kv: unknown): KvState | undefined {
  return typeof kv === "object" && kv !== null ? states.get(kv) : undefined;
}

/** One open database: its transport, its native handle, whether closed. */
export class KvState {
  /** The binding that carries requests. */
  readonly transport: Transport;
  /** The native handle. */
  readonly store: NativeStore;
  /** True once closed by close() or Symbol.dispose. */
  closed = false;
  /** True once close() itself was called (listenQueue then rejects). */
  closeCalled = false;
  #closing = false;

  /** Sends atomic writes, one native call per tick. */
  readonly writes: WriteBatcher;

  /**
   * Called once when the database closes, before the native store closes
   * (queue listeners stop and send their last outcomes); the database is
   * still open while they run.
   */
  readonly closeHooks: Set<() => void> = new Set();

  /** Wraps an open native store. */
  constructor(transport: Transport, store: NativeStore) {
    this.transport = transport;
    this.store = store;
    this.writes = new WriteBatcher(transport, store);
  }

  /**
   * Runs the close hooks, then marks the database closed and closes the
   * native store. What the hooks send reaches the engine before the close.
   */
  close(): void {
    if (this.closed || this.#closing) return;
    this.#closing = true;
    try {
      for (const hook of this.closeHooks) hook();
    } finally {
      this.closeHooks.clear();
      this.writes.sendAll();
      this.closed = true;
      this.transport.close(this.store);
    }
  }

  /**
   * A snapshot read that sees every write submitted before it (Deno's
   * read-your-writes): sent at once when no write is pending, else once
   * they are all answered (if the database closed meanwhile, the engine
   * answers "Database is closed.", as Deno does for a read in flight).
   */
  snapshotRead(request: Uint8Array): Uint8Array | Promise<Uint8Array> {
    if (this.writes.idle) {
      return this.transport.snapshotRead(this.store, request);
    }
    return this.writes.written().then(() =>
      this.transport.snapshotRead(this.store, request)
    );
  }

  /** Throws BadResource ("Bad resource ID") when the database is closed. */
  ensureOpen(): void {
    if (this.closed) throw badResource();
  }
}

/** The symbol `commitVersionstamp()` returns, one for every database. */
export const COMMIT_VERSIONSTAMP: unique symbol = Symbol(
  "KvCommitVersionstamp",
);
