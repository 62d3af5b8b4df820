/**
 * Records deliveries: which message indexes a handler has started on, when, and
 * how many were seen twice. Scenarios wait on it with a time bound.
 */
import { now } from "./time.ts";

/** Tracks deliveries of messages 0 .. size-1. */
export class Tracker {
  /** Distinct messages seen so far. */
  seen = 0;
  /** Deliveries of a message that had already been seen. */
  duplicates = 0;
  /** Deliveries of an index outside 0 .. size-1 (a bug in a system or adapter). */
  strays = 0;
  /** Handler start time of each message (`now()` ms), NaN until seen. */
  readonly arrivals: Float64Array;
  #waiters: { count: number; resolve: () => void }[] = [];

  /** @param size number of distinct messages expected. */
  constructor(size: number) {
    this.arrivals = new Float64Array(size).fill(NaN);
  }

  /**
   * The handler: call at the start of every delivery; `at` is when it
   * started (`now()` by default; another process's start, converted).
   */
  readonly onMessage = (message: { i: number }, at?: number): void => {
    const t = at ?? now();
    const i = message?.i;
    if (typeof i !== "number" || i < 0 || i >= this.arrivals.length) {
      this.strays++;
      return;
    }
    if (!Number.isNaN(this.arrivals[i])) {
      this.duplicates++;
      return;
    }
    this.arrivals[i] = t;
    this.seen++;
    // Cheap check first: this runs once per delivery, up to a million times.
    if (this.#waiters.some((w) => this.seen >= w.count)) {
      this.#waiters = this.#waiters.filter((w) => {
        if (this.seen < w.count) return true;
        w.resolve();
        return false;
      });
    }
  };

  /**
   * Resolves true once `count` distinct messages have been seen, or false when
   * `timeoutMs` passes first.
   */
  waitFor(count: number, timeoutMs: number): Promise<boolean> {
    if (this.seen >= count) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.#waiters.push(waiter);
    });
  }
}
