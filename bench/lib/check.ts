/**
 * Smoke-mode checks: no timing is judged, only that every message was seen,
 * every value read back, and that each result has the expected shape.
 */
import type { Floor } from "./floor.ts";
import type { SystemOutcome } from "./results.ts";
import { runsOn, type ScenarioInfo } from "./scenario_list.ts";

/** The outcome of the checks: counts and one line per failure. */
export interface CheckSummary {
  /** Scenario checks that held. */
  passed: number;
  /** Scenario checks that did not, with `failures` saying why. */
  failed: number;
  /** Systems not available here (kvq not built, no redis-server). */
  skipped: number;
  /** One line per failed check. */
  failures: string[];
}

/**
 * Checks every available system's every scenario of this run (`scenarios`:
 * all, or those picked with --scenarios); `runs(id)` is the expected run
 * count.
 */
export function checkSmoke(
  systems: SystemOutcome[],
  scenarios: ScenarioInfo[],
  runs: (scenario: string) => number,
  floors: (Floor | string)[],
): CheckSummary {
  const sum: CheckSummary = { passed: 0, failed: 0, skipped: 0, failures: [] };
  const fail = (what: string) => {
    sum.failed++;
    sum.failures.push(what);
  };
  for (const floor of floors) {
    if (typeof floor === "string") fail(`disk floor: ${floor}`);
    else if (
      !(floor.sqliteCommitsPerSecond > 0 && floor.rawSyncsPerSecond > 0)
    ) {
      fail(`disk floor: no rate in ${JSON.stringify(floor)}`);
    } else sum.passed++;
  }
  for (const s of systems) {
    if (s.status === "skipped") {
      sum.skipped++;
      continue;
    }
    if (s.status === "failed") {
      fail(`${s.id}: probe failed: ${s.note}`);
      continue;
    }
    for (const info of scenarios) {
      const where = `${s.id} ${info.id}`;
      const o = s.scenarios[info.id];
      if (!runsOn(info, s.id, s.kvq)) continue;
      if (!o) {
        fail(`${where}: no result`);
        continue;
      }
      if (o.status !== "ok") {
        fail(`${where}: ${o.status}: ${o.note}`);
        continue;
      }
      const problems: string[] = [];
      if (o.runs.length !== runs(info.id)) {
        problems.push(`${o.runs.length} runs, expected ${runs(info.id)}`);
      }
      for (const r of o.runs) {
        if (!r.complete || r.done !== r.target) {
          problems.push(`saw ${r.done} of ${r.target}`);
        }
        if (!(r.target > 0)) problems.push("target is 0");
        if (!(r.seconds >= 0)) problems.push("no duration");
        for (const m of info.metrics) {
          if (!m.optional && !Number.isFinite(r.metrics[m.name])) {
            problems.push(`figure ${m.name} missing`);
          }
        }
      }
      if (!(o.peakRssMb > 0)) problems.push("no peak RSS");
      if (problems.length > 0) fail(`${where}: ${problems.join("; ")}`);
      else sum.passed++;
    }
  }
  return sum;
}
