/** Helpers shared by the scenario implementations. */
import { payloads } from "../lib/payload.ts";
import { round } from "../lib/stats.ts";
import { Deadline } from "../lib/time.ts";
import { Tracker } from "../lib/tracker.ts";
import type {
  RunContext,
  RunResult,
  ScenarioParams,
  SystemInstance,
} from "../lib/types.ts";

/** A scenario: runs once on a fresh instance and reports the run. */
export type Scenario = (
  instance: SystemInstance,
  params: ScenarioParams,
  run: RunContext,
) => Promise<RunResult>;

/** Size of one bulk write when building a backlog or a key set (Deno allows 1000 per atomic). */
export const SETUP_BATCH = 500;

/** Assembles a RunResult, rounding the figures. */
export function result(
  target: number,
  done: number,
  seconds: number,
  metrics: Record<string, number>,
  duplicates = 0,
): RunResult {
  const rounded: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) rounded[k] = round(v);
  return {
    target,
    done,
    complete: done === target,
    seconds: round(seconds),
    duplicates,
    metrics: rounded,
  };
}

/**
 * Writes `count` items in batches through `write`, within the setup bound.
 * Resolves to how many were written (fewer than `count` if the bound passed).
 */
export async function bulk(
  count: number,
  setupBoundS: number,
  write: (batch: ReturnType<typeof payloads>) => Promise<void>,
): Promise<number> {
  const deadline = new Deadline(setupBoundS);
  let written = 0;
  while (written < count && !deadline.passed()) {
    const end = Math.min(count, written + SETUP_BATCH);
    await write(payloads(written, end));
    written = end;
  }
  return written;
}

/**
 * Smoke check after an enqueue scenario: starts the consumer and waits until
 * every one of the `count` enqueued messages has been delivered; throws if not.
 */
export async function verifyDelivered(
  instance: SystemInstance,
  count: number,
  boundS: number,
): Promise<void> {
  const tracker = new Tracker(count);
  instance.listen(tracker.onMessage);
  const ok = await tracker.waitFor(count, boundS * 1000);
  if (!ok) {
    throw new Error(
      `only ${tracker.seen} of ${count} enqueued messages were delivered`,
    );
  }
}

/** Reads the peak resident set of this process in MB (Linux VmHWM), or the current RSS. */
export async function peakRssMb(): Promise<number> {
  try {
    const { readFileSync } = await import("node:fs");
    const status = readFileSync("/proc/self/status", "utf8");
    const match = /VmHWM:\s+(\d+)\s+kB/.exec(status);
    if (match) return round(Number(match[1]) / 1024);
  } catch {
    // Not Linux: fall through to the current RSS, the best figure available.
  }
  const { memoryUsage } = await import("node:process");
  return round(memoryUsage().rss / 1024 / 1024);
}
