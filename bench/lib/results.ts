/**
 * The shape of bench/results/latest.json, and how child reports become it:
 * the median of each figure over the runs, and kvq's ratios to every other
 * system measured in the same run.
 */
import type { Floor } from "./floor.ts";
import type { TargetCheck } from "./targets.ts";
import { SCENARIOS } from "./scenario_list.ts";
import { median, round } from "./stats.ts";
import type { Better, ChildReport, RunResult } from "./types.ts";

/** One scenario on one system, after aggregation. */
export interface ScenarioOutcome {
  /** "ok", "skipped", "failed", or "n/a" (kvq-only scenario on a peer). */
  status: "ok" | "skipped" | "failed" | "n/a";
  /** Why it was skipped or failed. */
  note?: string;
  /** Every run as the child reported it. */
  runs: RunResult[];
  /** Median over the runs of each figure. */
  median: Record<string, number>;
  /** False when any run stopped at its time bound before doing everything. */
  complete: boolean;
  /** Peak RSS of the child process, MB. */
  peakRssMb: number;
}

/** One system, after aggregation. */
export interface SystemOutcome {
  /** System id (lib/systems.ts). */
  id: string;
  /** Column heading. */
  label: string;
  /** Runtime name and version as the child reported it, e.g. "deno 2.9.6". */
  runtime: string;
  /** True for kvq rows. */
  kvq: boolean;
  /** "ok" once its probe passed; "skipped" when not available; "failed" when the probe failed. */
  status: "ok" | "skipped" | "failed";
  /** Why it was skipped or failed. */
  note?: string;
  /** Outcomes by scenario id. */
  scenarios: Record<string, ScenarioOutcome>;
}

/** kvq figure against another system's figure, from the same run. */
export interface Ratio {
  /** The kvq system id. */
  kvq: string;
  /** The other system id. */
  other: string;
  /** Scenario id. */
  scenario: string;
  /** Metric name. */
  metric: string;
  /** How many times better kvq is: above 1 kvq is better, below 1 worse. */
  ratio: number;
  /** Whether higher or lower figures are better for this metric. */
  better: Better;
}

/** The whole results file. */
export interface Results {
  /** Version of this shape. */
  schema: 1;
  /** "full" or "smoke". */
  mode: "full" | "smoke";
  /** ISO time the run started. */
  startedAt: string;
  /** Wall time of the whole run, seconds. */
  durationS: number;
  /** What the figures were measured on. */
  machine: Record<string, string | number>;
  /** The disk's floor under sequential writes, before and after the systems. */
  floor: { start: Floor | string; end: Floor | string };
  /** Runs and per-scenario parameters used. */
  config: unknown;
  /** Every system, in table order. */
  systems: SystemOutcome[];
  /** kvq's ratios. */
  ratios: Ratio[];
  /** Issue 11's targets for kvq on Postgres, checked on this run. */
  targets: TargetCheck[];
}

/** Turns a child report into a scenario outcome (median of each figure). */
export function aggregate(report: ChildReport): ScenarioOutcome {
  const names = new Set(report.runs.flatMap((r) => Object.keys(r.metrics)));
  const med: Record<string, number> = {};
  for (const name of names) {
    const values = report.runs.map((r) => r.metrics[name]).filter(
      Number.isFinite,
    );
    if (values.length > 0) med[name] = round(median(values));
  }
  return {
    status: report.status,
    note: report.note,
    runs: report.runs,
    median: med,
    complete: report.runs.length > 0 && report.runs.every((r) => r.complete),
    peakRssMb: report.peakRssMb,
  };
}

/** Ratios of every kvq figure to the same figure of every other system. */
export function ratios(systems: SystemOutcome[]): Ratio[] {
  const out: Ratio[] = [];
  for (const k of systems.filter((s) => s.kvq && s.status === "ok")) {
    for (const other of systems) {
      if (other === k || other.status !== "ok") continue;
      for (const info of SCENARIOS) {
        const a = k.scenarios[info.id]?.median;
        const b = other.scenarios[info.id]?.median;
        if (!a || !b) continue;
        for (const m of info.metrics) {
          const x = a[m.name];
          const y = b[m.name];
          // A ratio needs two positive figures (lateness can be 0 or negative).
          if (!(x > 0 && y > 0)) continue;
          const ratio = m.better === "higher" ? x / y : y / x;
          out.push({
            kvq: k.id,
            other: other.id,
            scenario: info.id,
            metric: m.name,
            ratio: round(ratio),
            better: m.better,
          });
        }
      }
    }
  }
  return out;
}
