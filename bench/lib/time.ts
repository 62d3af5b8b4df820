/** Clock helpers shared by the scenarios. */

/** Milliseconds since an arbitrary origin, monotonic. */
export function now(): number {
  return performance.now();
}

/**
 * Milliseconds since the Unix epoch, with `now()`'s resolution: comparable
 * across the processes of one machine (a time a peer process reports).
 */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A time a peer reported with `wallNow()`, as this process's `now()`. */
export function fromWall(wall: number): number {
  return wall - performance.timeOrigin;
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A deadline `seconds` from now; `passed()` tells whether it is over. */
export class Deadline {
  /** Absolute time (in `now()` milliseconds) at which the deadline passes. */
  readonly at: number;

  /** @param seconds how long from now the deadline is. */
  constructor(seconds: number) {
    this.at = now() + seconds * 1000;
  }

  /** True once the deadline has passed. */
  passed(): boolean {
    return now() >= this.at;
  }

  /** Milliseconds left, never negative. */
  left(): number {
    return Math.max(0, this.at - now());
  }
}
