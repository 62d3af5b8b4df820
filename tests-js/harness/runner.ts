/**
 * The suite's own test runner: runs cases one at a time against one or more
 * targets, with a per-case timeout and a name filter, and prints one line per
 * case, an optional case x target table, then `N passed, N failed`.
 *
 * It uses only `console.log` and timers, so it behaves the same on every
 * runtime; exiting and reading argv/env is the runner scripts' job.
 *
 * @module
 */

import { describe } from "./assert.ts";
import type { Case, Target } from "./types.ts";

/** Options of `runCases`. */
export interface RunOptions {
  /** Case-insensitive substrings; a case runs if its name contains any. */
  filters?: string[];
  /** Milliseconds before a case counts as failed (default 20000). */
  timeoutMs?: number;
  /** Where lines go (default console.log). */
  log?: (line: string) => void;
}

/** Every case's outcome on one target, as a results file holds it. */
export interface TargetResults {
  /** The target's name. */
  target: string;
  /** Outcome per case name, in run order. */
  outcomes: Record<string, Outcome>;
}

/** The outcome of one case on one target. */
export type Outcome = "pass" | "fail" | "skip";

/** Totals returned by `runCases`. */
export interface RunSummary {
  /** Per target, every case's outcome. */
  results: TargetResults[];
  /** Cases that passed, over all targets. */
  passed: number;
  /** Cases that failed (including timeouts), over all targets. */
  failed: number;
  /** Cases skipped by their own `skip` rule. */
  skipped: number;
}

/** Default per-case timeout: long enough for the slowest queue case. */
export const DEFAULT_TIMEOUT_MS = 20_000;

/** True when `name` matches one of `filters` (or there are none). */
export function matches(name: string, filters: string[] | undefined): boolean {
  if (!filters || filters.length === 0) return true;
  const lower = name.toLowerCase();
  return filters.some((f) => lower.includes(f.toLowerCase()));
}

/** Runs `fn` with a deadline; rejects with a timeout error when it passes. */
async function runWithTimeout(
  fn: () => Promise<void>,
  ms: number,
): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  try {
    await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every matching case against every target and prints the results. */
export async function runCases(
  targets: Target[],
  cases: Case[],
  opts: RunOptions = {},
): Promise<RunSummary> {
  const log = opts.log ?? ((line: string) => console.log(line));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const selected = cases.filter((c) => matches(c.name, opts.filters));
  const names = new Set<string>();
  for (const c of selected) {
    // Duplicate names would make the table and filters ambiguous.
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`);
    names.add(c.name);
  }
  const summary: RunSummary = {
    passed: 0,
    failed: 0,
    skipped: 0,
    results: [],
  };
  const table = new Map<string, Outcome[]>();
  const prefixOf = (t: Target) => (targets.length > 1 ? `[${t.name}] ` : "");
  for (const c of selected) {
    table.set(c.name, new Array(targets.length).fill("skip"));
  }
  for (let ti = 0; ti < targets.length; ti++) {
    const t = targets[ti];
    for (const c of selected) {
      const row = table.get(c.name)!;
      const reason = c.skip?.(t);
      if (reason !== undefined) {
        summary.skipped++;
        row[ti] = "skip";
        log(`${prefixOf(t)}skip ${c.name} -- ${reason}`);
        continue;
      }
      const started = Date.now();
      try {
        await runWithTimeout(() => c.run(t), c.timeoutMs ?? timeoutMs);
        summary.passed++;
        row[ti] = "pass";
        log(`${prefixOf(t)}ok   ${c.name} (${Date.now() - started} ms)`);
      } catch (e) {
        summary.failed++;
        row[ti] = "fail";
        const why =
          e instanceof Error && !(e instanceof TypeError) && e.name === "Error"
            ? e.message
            : describe(e);
        log(
          `${prefixOf(t)}FAIL ${c.name} (${Date.now() - started} ms) -- ${why}`,
        );
      }
    }
  }
  summary.results = targets.map((t, ti) => ({
    target: t.name,
    outcomes: Object.fromEntries(
      [...table].map(([name, row]) => [name, row[ti]]),
    ),
  }));
  if (targets.length > 1) printTable(targets, table, log);
  if (summary.skipped > 0) log(`${summary.skipped} skipped`);
  log(`${summary.passed} passed, ${summary.failed} failed`);
  return summary;
}

/** Prints the case x target matrix. */
export function printTable(
  targets: { name: string }[],
  table: Map<string, Outcome[]>,
  log: (line: string) => void,
): void {
  const widths = targets.map((t) => Math.max(t.name.length, 4));
  const cell = (s: string, i: number) => s.padEnd(widths[i]);
  log("");
  log(`${targets.map((t, i) => cell(t.name, i)).join("  ")}  case`);
  for (const [name, row] of table) {
    log(`${row.map((o, i) => cell(o, i)).join("  ")}  ${name}`);
  }
  log("");
}
