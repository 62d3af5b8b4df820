/**
 * Watching the queue's wake-up key: every commit that makes a message
 * ready bumps it, so a change means "look for due messages". A watch that
 * fails or ends while the queue is listening (a dropped KV Connect stream,
 * say) is started again after a pause; the poll keeps the queue going
 * meanwhile.
 *
 * @module
 */

import type { KvKey } from "../types.ts";
import type { KvStore } from "./types.ts";

/** Whether an error means the store is closed. */
export function isClosedError(error: unknown): boolean {
  return error instanceof Error &&
    (error.name === "BadResource" || /\bclosed\b/i.test(error.message));
}

/** A watch on one key that calls `onChange` for every chunk. */
export class WakeWatch {
  #kv: KvStore;
  #key: KvKey;
  #onChange: () => void;
  #onClosed: () => void;
  #retryMs: number;
  #reader: ReadableStreamDefaultReader<unknown> | null = null;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #on = false;

  /**
   * A watch of `key`; `onClosed` is called if the store turns out to be
   * closed; a failed watch is retried after `retryMs`.
   */
  constructor(
    kv: KvStore,
    key: KvKey,
    onChange: () => void,
    onClosed: () => void,
    retryMs: number,
  ) {
    this.#kv = kv;
    this.#key = key;
    this.#onChange = onChange;
    this.#onClosed = onClosed;
    this.#retryMs = retryMs;
  }

  /** Starts watching (the first chunk, the current state, wakes too). */
  start(): void {
    this.#on = true;
    this.#open();
  }

  /** Stops watching. */
  stop(): void {
    this.#on = false;
    clearTimeout(this.#retry);
    this.#reader?.cancel().catch(() => {});
    this.#reader = null;
  }

  #open(): void {
    let reader: ReadableStreamDefaultReader<unknown>;
    try {
      reader = this.#kv.watch([this.#key]).getReader();
    } catch (error) {
      this.#ended(error);
      return;
    }
    this.#reader = reader;
    (async () => {
      for (;;) {
        const r = await reader.read();
        if (r.done) return;
        this.#onChange();
      }
    })().then(() => null, (error) => error).then((error) => {
      if (this.#reader === reader) this.#ended(error);
    });
  }

  #ended(error: unknown): void {
    this.#reader = null;
    if (!this.#on) return;
    if (isClosedError(error)) {
      this.#onClosed();
      return;
    }
    if (error !== null) {
      console.error("kvq queue: watch failed; polling until it works:", error);
    }
    this.#retry = setTimeout(() => {
      if (this.#on && this.#reader === null) this.#open();
    }, this.#retryMs);
  }
}
