/**
 * The options of a queue instance, checked once when it is made.
 *
 * @module
 */

import type { KvKey } from "../types.ts";
import type { ChecksLimit } from "./commits.ts";
import { DEFAULT_PREFIX } from "./layout.ts";
import type { KvQueueOptions } from "./types.ts";

/** The options after defaults, all checked. */
export interface Config {
  /** The key prefix of the queue. */
  prefix: KvKey;
  /** Lease length in ms. */
  leaseMs: number;
  /** Backstop poll interval in ms. */
  pollIntervalMs: number;
  /** Most checks per atomic operation (lowered at run time when auto). */
  checks: ChecksLimit;
}

function show(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function number(
  options: KvQueueOptions,
  name: "leaseMs" | "pollIntervalMs" | "checksPerAtomic",
  min: number,
  max: number,
  fallback: number,
  what: string,
): number {
  const v: unknown = options[name];
  if (v === undefined) return fallback;
  if (
    typeof v !== "number" || !Number.isInteger(v) || v < min || v > max
  ) {
    throw new TypeError(
      `KvQueue: ${name} must be ${what} from ${min} to ${max}: received ${
        show(v)
      }`,
    );
  }
  return v;
}

/** Checks `options` (TypeError with the option's name) and fills defaults. */
export function resolveOptions(options: unknown): Config {
  if (options === undefined) options = {};
  if (options === null || typeof options !== "object") {
    throw new TypeError(
      `KvQueue: options must be an object: received ${show(options)}`,
    );
  }
  const o = options as KvQueueOptions;
  let prefix: KvKey = DEFAULT_PREFIX;
  if (o.prefix !== undefined) {
    if (
      !Array.isArray(o.prefix) || o.prefix.length === 0 ||
      !o.prefix.every((p) =>
        ["string", "number", "bigint", "boolean"].includes(typeof p) ||
        ArrayBuffer.isView(p)
      )
    ) {
      throw new TypeError(
        "KvQueue: prefix must be a non-empty key (an array of strings, numbers, bigints, booleans or Uint8Arrays)",
      );
    }
    prefix = [...o.prefix];
  }
  return {
    prefix,
    leaseMs: number(o, "leaseMs", 30, 86_400_000, 30_000, "an integer of ms"),
    pollIntervalMs: number(
      o,
      "pollIntervalMs",
      10,
      3_600_000,
      1000,
      "an integer of ms",
    ),
    checks: o.checksPerAtomic === undefined ? { max: 100, auto: true } : {
      max: number(o, "checksPerAtomic", 1, 100, 100, "an integer"),
      auto: false,
    },
  };
}
