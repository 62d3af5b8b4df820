/**
 * Argument validation with Deno's error classes and messages (Deno 2.9.6's
 * built-in JS and its ops), plus the checks of kvq's own options.
 *
 * @module
 */

import { hasHugePart, MAX_KEY_PART_BYTES, serdeError } from "./key.ts";

const MAX_QUEUE_DELAY = 30 * 24 * 60 * 60 * 1000;
const MAX_BACKOFF_INTERVALS = 5;
const MAX_BACKOFF_INTERVAL = 60 * 60 * 1000;

/**
 * Throws V8's TypeError for reading `prop` of null or undefined, spelled
 * out so that every engine (JavaScriptCore included) reports Deno's text.
 */
export function readable(v: unknown, prop: string): void {
  if (v === null || v === undefined) {
    throw new TypeError(`Cannot read properties of ${v} (reading '${prop}')`);
  }
}

/** `expireIn`: undefined, or an integer >= 0 (TypeError otherwise). */
export function checkExpireIn(expireIn: unknown): void {
  if (
    expireIn !== undefined &&
    !(Number.isInteger(expireIn) && (expireIn as number) >= 0)
  ) {
    throw new TypeError(
      `expireIn must be a non-negative integer: received ${expireIn}`,
    );
  }
}

/** An enqueue `delay` (checked only when not undefined, as Deno does). */
export function checkDelay(delay: unknown): void {
  const d = delay as number;
  if (d < 0) throw new TypeError(`Delay must be >= 0: received ${d}`);
  if (d > MAX_QUEUE_DELAY) {
    throw new TypeError(`Delay cannot be greater than 30 days: received ${d}`);
  }
  if (Number.isNaN(d)) throw new TypeError("Delay cannot be NaN");
}

/** A `backoffSchedule` (checked only when not undefined, as Deno does). */
export function checkBackoffSchedule(schedule: unknown): void {
  // Deno reads .length first: null throws "Cannot read properties of null".
  readable(schedule, "length");
  const s = schedule as number[];
  if (s.length > MAX_BACKOFF_INTERVALS) {
    throw new TypeError(
      `Invalid backoffSchedule, max ${MAX_BACKOFF_INTERVALS} intervals allowed`,
    );
  }
  for (let i = 0; i < s.length; ++i) {
    const interval = s[i];
    if (
      interval < 0 || interval > MAX_BACKOFF_INTERVAL ||
      Number.isNaN(interval)
    ) {
      throw new TypeError(
        `Invalid backoffSchedule, interval at index ${i} is invalid`,
      );
    }
  }
}

/**
 * `keysIfUndelivered`: Deno sets no size limit on these keys, but a part
 * over MAX_KEY_PART_BYTES could never be stored (key.ts writes a stand-in
 * for it); refused with a TypeError rather than dead-lettered under
 * another key. Anything but an array is left to the encoder's type error.
 */
export function checkKeysIfUndelivered(keys: unknown): void {
  if (!Array.isArray(keys)) return;
  for (let i = 0; i < keys.length; i++) {
    if (hasHugePart(keys[i])) {
      throw new TypeError(
        `Key too large for keysIfUndelivered (max ${MAX_KEY_PART_BYTES} bytes per part)`,
      );
    }
  }
}

/** A consistency level: undefined, "strong" or "eventual". */
export function checkConsistency(consistency: unknown): void {
  if (
    consistency === undefined || consistency === "strong" ||
    consistency === "eventual"
  ) return;
  if (typeof consistency === "string") {
    throw new TypeError(
      `unknown variant \`${consistency}\`, expected \`strong\` or \`eventual\``,
    );
  }
  throw serdeError("enum", consistency);
}

/** list's `limit`: undefined or a positive integer (plain Error). */
export function checkLimit(limit: unknown): void {
  if (limit !== undefined && !isPositiveInteger(limit)) {
    throw new Error(`Limit must be a positive integer: received ${limit}`);
  }
}

/** list's batch size after defaults: a positive integer (plain Error). */
export function checkBatchSize(batchSize: unknown): void {
  if (!isPositiveInteger(batchSize)) {
    throw new Error(
      `batchSize must be a positive integer: received ${batchSize}`,
    );
  }
}

/** Whether `n` is an integer greater than zero. */
export function isPositiveInteger(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) > 0;
}

/** The value of an option, for messages: strings quoted, the rest as is. */
function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

/**
 * listenQueue's kvq options: `concurrency` a positive integer, `signal` an
 * AbortSignal. Returns the concurrency to use (default 100).
 */
export function checkListenOptions(options: unknown): number {
  if (options === undefined) return 100;
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `listenQueue: options must be an object: received ${show(options)}`,
    );
  }
  const { concurrency, signal } = options as {
    concurrency?: unknown;
    signal?: unknown;
  };
  if (concurrency !== undefined && !isPositiveInteger(concurrency)) {
    throw new TypeError(
      `listenQueue: concurrency must be a positive integer: received ${
        show(concurrency)
      }`,
    );
  }
  if (
    signal !== undefined &&
    !(typeof AbortSignal === "function" && signal instanceof AbortSignal)
  ) {
    throw new TypeError("listenQueue: signal must be an AbortSignal");
  }
  return (concurrency as number | undefined) ?? 100;
}

/**
 * openKv's kvq options, as the engine's JSON. The engine checks their
 * values (lease range, durability names) with its own messages; here only
 * what JSON cannot carry: a lease that is not a finite number would arrive
 * as null and be taken as absent.
 */
export function checkOpenOptions(options: unknown): string {
  if (options === undefined) return "{}";
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `openKv: options must be an object: received ${show(options)}`,
    );
  }
  const { leaseMs, durability, schema, poolSize, accessToken } = options as {
    leaseMs?: unknown;
    durability?: unknown;
    schema?: unknown;
    poolSize?: unknown;
    accessToken?: unknown;
  };
  if (
    leaseMs !== undefined &&
    (typeof leaseMs !== "number" || !Number.isFinite(leaseMs))
  ) {
    throw new TypeError(
      `openKv: leaseMs must be a number of milliseconds from 30 to 86400000: received ${
        show(leaseMs)
      }`,
    );
  }
  if (schema !== undefined && typeof schema !== "string") {
    throw new TypeError(
      `openKv: schema must be a string: received ${show(schema)}`,
    );
  }
  if (
    poolSize !== undefined &&
    (typeof poolSize !== "number" || !Number.isFinite(poolSize))
  ) {
    throw new TypeError(
      `openKv: poolSize must be a whole number from 1 to 64: received ${
        show(poolSize)
      }`,
    );
  }
  if (
    accessToken !== undefined &&
    (typeof accessToken !== "string" || accessToken === "")
  ) {
    // Never the value: it may be a misplaced secret.
    throw new TypeError("openKv: accessToken must be a non-empty string");
  }
  // The engine checks the values (ranges, names) and ignores the Postgres
  // and KV Connect options where they do not apply.
  const out = { leaseMs, durability, schema, poolSize, accessToken };
  return JSON.stringify(out);
}
