/**
 * The targets issue 11 sets kvq on Postgres, issue 12 kvq over KV Connect
 * and issue 13 named queues (on a file, through Node), checked against one run's figures: each as a ratio of two figures of this run, or a figure against
 * a bound. Printed after the tables and stored in the results JSON; a
 * missed target is reported, not failed (the machine's load moves them).
 */
import type { SystemOutcome } from "./results.ts";

/** One target and what this run measured. */
export interface TargetCheck {
  /** What is asked, in words. */
  target: string;
  /** The measured ratio or figure, or null when a figure is missing. */
  measured: number | null;
  /** Whether it was met (null: not measured in this run). */
  met: boolean | null;
}

const PG = "kvq-node-pg";
const FILE = "kvq-node";
const REMOTE = "kvq-node-remote";

function figure(
  systems: SystemOutcome[],
  system: string,
  scenario: string,
  metric: string,
): number | undefined {
  const s = systems.find((x) => x.id === system && x.status === "ok");
  const value = s?.scenarios[scenario]?.median[metric];
  return value !== undefined && value > 0 ? value : undefined;
}

/** Checks every target against the run's figures. */
export function checkTargets(systems: SystemOutcome[]): TargetCheck[] {
  const rate = (system: string, scenario: string) =>
    figure(systems, system, scenario, "rate");
  const ratio = (
    target: string,
    a: number | undefined,
    b: number | undefined,
    least: number,
  ): TargetCheck => {
    const measured = a && b ? Math.round((a / b) * 100) / 100 : null;
    return {
      target,
      measured,
      met: measured === null ? null : measured >= least,
    };
  };
  // A ratio a scenario measured itself (scenarios/named.ts).
  const least = (
    target: string,
    value: number | undefined,
    min: number,
  ): TargetCheck => ({
    target,
    measured: value ?? null,
    met: value === undefined ? null : value >= min,
  });
  const bound = (
    target: string,
    value: number | undefined,
    most: number,
  ): TargetCheck => ({
    target,
    measured: value ?? null,
    met: value === undefined ? null : value <= most,
  });
  const drain = (other: string) => rate(other, "drain_20k_4p");
  return [
    ratio(
      "4-process drain of 20k: kvq/Postgres >= 3x graphile-worker",
      rate(PG, "drain_20k_4p"),
      drain("graphile-worker"),
      3,
    ),
    ratio(
      "4-process drain of 20k: kvq/Postgres >= 3x pg-boss",
      rate(PG, "drain_20k_4p"),
      drain("pg-boss"),
      3,
    ),
    ratio(
      "4-process drain of 20k: kvq/Postgres >= 1x BullMQ with Redis AOF",
      rate(PG, "drain_20k_4p"),
      drain("bullmq-aof"),
      1,
    ),
    bound(
      "enqueue-to-handler across processes, p50 <= 2 ms",
      figure(systems, PG, "cross_process", "delivery_p50"),
      2,
    ),
    bound(
      "enqueue-to-handler across processes, p99 <= 20 ms",
      figure(systems, PG, "cross_process", "delivery_p99"),
      20,
    ),
    ratio(
      "concurrent enqueue (chunks of 100): kvq/Postgres >= 3x pg-boss",
      rate(PG, "enqueue_concurrent"),
      rate("pg-boss", "enqueue_concurrent"),
      3,
    ),
    ratio(
      "drain of a 200k backlog >= 0.8x the rate for 1k (within 20%)",
      rate(PG, "drain_200k"),
      rate(PG, "drain_1k"),
      0.8,
    ),
    ratio(
      "KV Connect: 4-process drain of 20k >= 3x Deno.openKv's on a file",
      rate(REMOTE, "drain_20k_4p"),
      rate("deno", "drain_20k"),
      3,
    ),
    bound(
      "KV Connect: enqueue-to-handler latency, p50 <= 20 ms",
      figure(systems, REMOTE, "latency", "p50"),
      20,
    ),
    least(
      "named queues in use cost the plain drain of 20k at most 10% (>= 0.9x)",
      figure(systems, FILE, "drain_20k_named_idle", "ratio"),
      0.9,
    ),
    least(
      "drain of 20k over 1,000 ordering groups >= 0.5x the plain drain",
      figure(systems, FILE, "named_groups_20k", "ratio"),
      0.5,
    ),
  ];
}

/** The checks as lines for the report. */
export function targetLines(checks: TargetCheck[]): string {
  const lines = [
    "issue 11's targets for kvq on Postgres, 12's over KV Connect and 13's for named queues, this run:",
  ];
  for (const c of checks) {
    const verdict = c.met === null ? "not measured" : c.met ? "met" : "MISSED";
    const value = c.measured === null ? "-" : String(c.measured);
    lines.push(`  ${verdict.padEnd(12)} ${value.padStart(8)}  ${c.target}`);
  }
  return lines.join("\n");
}
