/**
 * The options of a named queue and of its enqueues and listeners, checked
 * when given: a TypeError naming the option for a bad one.
 *
 * @module
 */

import type { KvQueueOptions } from "../kvqueue/types.ts";

/** Options of a named queue (`kv.queue(name, options)`, `queue(kv, name, options)`). */
export interface QueueOptions extends Omit<KvQueueOptions, "prefix"> {
  /**
   * Most handlers of one listener running at once, unless `listen` says
   * otherwise (1 to 10000). Default 10.
   */
  concurrency?: number;
  /**
   * How long an attempt may run, in ms (1 to 86400000). Past it the
   * handler's `signal` aborts with a {@link QueueTimeoutError} and the
   * attempt counts as failed. Default 300000 (5 minutes).
   */
  timeoutMs?: number;
  /**
   * Attempts in all before a message is dead-lettered (1 to 1000).
   * Default 5.
   */
  maxAttempts?: number;
  /** The wait before the first retry, in ms (0 to 86400000). Default 1000. */
  retryDelayMs?: number;
  /** Each retry waits this many times longer than the one before (1 to 100). Default 2. */
  retryFactor?: number;
  /** The longest wait between attempts, in ms (0 to 86400000). Default 3600000. */
  maxRetryDelayMs?: number;
  /**
   * Random spread of each wait, as a fraction (0 to 1): a wait of `d`
   * becomes a random one in `d * (1 - jitter) … d * (1 + jitter)`.
   * Default 0.2.
   */
  retryJitter?: number;
  /**
   * Errors that are not retried: the message is dead-lettered at once.
   * Error classes (matched with `instanceof`), error names (matched with
   * `error.name`), or a function returning true for such an error.
   */
  noRetry?:
    | Array<string | (abstract new (...args: never[]) => unknown)>
    | ((error: unknown) => boolean);
  /**
   * Deduplicate every enqueue: a message whose `dedupId` (default: a
   * SHA-256 of its V8 bytes) was enqueued within the window is not added.
   * Without it, only enqueues that pass a `dedupId` are deduplicated.
   * Default false.
   */
  deduplicate?: boolean;
  /** The deduplication window, in ms (1 to 2592000000). Default 300000 (5 minutes). */
  dedupWindowMs?: number;
}

/** Options of one enqueue on a named queue. */
export interface QueueEnqueueOptions {
  /** Wait before the first delivery, in ms (0 to 30 days). Default 0. */
  delay?: number;
  /**
   * The ordering group: messages of one group are delivered one at a
   * time, in enqueue order, across every process (a non-empty string of
   * at most 256 characters).
   */
  group?: string;
  /**
   * The deduplication id (a non-empty string of at most 256 characters):
   * an enqueue with an id seen within the queue's window adds nothing and
   * returns the first message's id.
   */
  dedupId?: string;
}

/** Options of one listener of a named queue. */
export interface QueueListenOptions {
  /** Most handlers at once (1 to 10000). Default: the queue's `concurrency`. */
  concurrency?: number;
  /**
   * Stops the listener: nothing new starts, running handlers' signals
   * abort, and the promise resolves once claimed messages are back.
   */
  signal?: AbortSignal;
}

/** A named queue's options after defaults (see {@link QueueOptions}). */
export interface QueueConfig {
  concurrency: number;
  timeoutMs: number;
  maxAttempts: number;
  retryDelayMs: number;
  retryFactor: number;
  maxRetryDelayMs: number;
  retryJitter: number;
  noRetry: (error: unknown) => boolean;
  deduplicate: boolean;
  dedupWindowMs: number;
  engine: KvQueueOptions;
}

/** A JSON-ish rendering of a bad value for an error message. */
export function show(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "function") return "a function";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object" && v !== null) return "an object";
  return String(v);
}

/** Checks a number option; TypeError `<where>: <name> must be …`. */
export function numberOption(
  where: string,
  name: string,
  v: unknown,
  min: number,
  max: number,
  fallback: number,
  integer = true,
): number {
  if (v === undefined) return fallback;
  if (
    typeof v !== "number" || Number.isNaN(v) || v < min || v > max ||
    (integer && !Number.isInteger(v))
  ) {
    throw new TypeError(
      `${where}: ${name} must be ${
        integer ? "an integer" : "a number"
      } from ${min} to ${max}: received ${show(v)}`,
    );
  }
  return v;
}

/** Checks a queue name: a non-empty string of at most 256 characters. */
export function checkName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > 256) {
    throw new TypeError(
      `queue: name must be a non-empty string of at most 256 characters: received ${
        show(name)
      }`,
    );
  }
  return name;
}

/** Checks an id-like string option (group, dedupId). */
export function idOption(
  where: string,
  name: string,
  v: unknown,
): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== "string" || v.length === 0 || v.length > 256) {
    throw new TypeError(
      `${where}: ${name} must be a non-empty string of at most 256 characters: received ${
        show(v)
      }`,
    );
  }
  return v;
}

function objectOption(
  where: string,
  name: string,
  v: unknown,
): Record<string, unknown> {
  if (v === undefined) return {};
  if (v === null || typeof v !== "object" || Array.isArray(v)) {
    throw new TypeError(
      `${where}: ${name} must be an object: received ${show(v)}`,
    );
  }
  return v as Record<string, unknown>;
}

function noRetryOption(v: unknown): (error: unknown) => boolean {
  if (v === undefined) return () => false;
  if (typeof v === "function") {
    const f = v as (error: unknown) => boolean;
    return (error) => {
      try {
        return f(error) === true;
      } catch {
        return false;
      }
    };
  }
  if (
    !Array.isArray(v) ||
    !v.every((x) => typeof x === "string" || typeof x === "function")
  ) {
    throw new TypeError(
      `queue: noRetry must be an array of error classes or names, or a function: received ${
        show(v)
      }`,
    );
  }
  const names = v.filter((x): x is string => typeof x === "string");
  const classes = v.filter((x) =>
    typeof x === "function"
  ) as (new () => unknown)[];
  return (error) =>
    classes.some((c) => error instanceof c) ||
    (error instanceof Error && names.includes(error.name));
}

/** Checks a named queue's options and fills in the defaults. */
export function resolveQueueOptions(options: unknown): QueueConfig {
  const o = objectOption("queue", "options", options);
  const w = "queue";
  const deduplicate = o.deduplicate;
  if (deduplicate !== undefined && typeof deduplicate !== "boolean") {
    throw new TypeError(
      `queue: deduplicate must be a boolean: received ${show(deduplicate)}`,
    );
  }
  const engine: KvQueueOptions = {};
  for (const k of ["leaseMs", "pollIntervalMs", "checksPerAtomic"] as const) {
    if (o[k] !== undefined) engine[k] = o[k] as number;
  }
  if (o.prefix !== undefined) {
    throw new TypeError(
      'queue: prefix is not an option of a named queue: its keys live under ["__kvq", "queues", name]',
    );
  }
  return {
    concurrency: numberOption(w, "concurrency", o.concurrency, 1, 10000, 10),
    timeoutMs: numberOption(
      w,
      "timeoutMs",
      o.timeoutMs,
      1,
      86_400_000,
      300_000,
    ),
    maxAttempts: numberOption(w, "maxAttempts", o.maxAttempts, 1, 1000, 5),
    retryDelayMs: numberOption(
      w,
      "retryDelayMs",
      o.retryDelayMs,
      0,
      86_400_000,
      1000,
    ),
    retryFactor: numberOption(
      w,
      "retryFactor",
      o.retryFactor,
      1,
      100,
      2,
      false,
    ),
    maxRetryDelayMs: numberOption(
      w,
      "maxRetryDelayMs",
      o.maxRetryDelayMs,
      0,
      86_400_000,
      3_600_000,
    ),
    retryJitter: numberOption(
      w,
      "retryJitter",
      o.retryJitter,
      0,
      1,
      0.2,
      false,
    ),
    noRetry: noRetryOption(o.noRetry),
    deduplicate: deduplicate ?? false,
    dedupWindowMs: numberOption(
      w,
      "dedupWindowMs",
      o.dedupWindowMs,
      1,
      2_592_000_000,
      300_000,
    ),
    engine,
  };
}

/** Checks one enqueue's options. */
export function resolveEnqueueOptions(options: unknown): {
  delay: number;
  group?: string;
  dedupId?: string;
} {
  const o = objectOption("enqueue", "options", options);
  return {
    delay: numberOption("enqueue", "delay", o.delay, 0, 2_592_000_000, 0),
    group: idOption("enqueue", "group", o.group),
    dedupId: idOption("enqueue", "dedupId", o.dedupId),
  };
}

/** Checks one listener's options. */
export function resolveListenOptions(options: unknown, fallback: number): {
  concurrency: number;
  signal?: AbortSignal;
} {
  const o = objectOption("listen", "options", options);
  const signal = o.signal;
  if (
    signal !== undefined &&
    !(typeof AbortSignal === "function" && signal instanceof AbortSignal)
  ) {
    throw new TypeError("listen: signal must be an AbortSignal");
  }
  return {
    concurrency: numberOption(
      "listen",
      "concurrency",
      o.concurrency,
      1,
      10000,
      fallback,
    ),
    signal: signal as AbortSignal | undefined,
  };
}
