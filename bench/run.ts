/**
 * The benchmark orchestrator. Runs every system's scenarios, each in a child
 * process on the runtime it needs, prints the figures side by side and kvq's
 * ratios to every other system, and writes bench/results/latest.json
 * (bench/results/smoke.json for a smoke run).
 *
 *   node bench/run.ts            full mode (`make bench`), about 15 min on 2 cores
 *   node bench/run.ts --smoke    tiny counts, checks only (`make test`), under a minute
 *
 * Runs on Node 24 (type stripping). See bench/README.md for every option.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { checkSmoke } from "./lib/check.ts";
import { killAllChildren, runChild } from "./lib/child.ts";
import { FULL, SMOKE } from "./lib/config.ts";
import { floorLine, measureFloor } from "./lib/floor.ts";
import {
  redisAvailable,
  type RedisServer,
  startRedis,
  stopAllRedis,
} from "./lib/redis.ts";
import {
  aggregate,
  ratios,
  type Results,
  type SystemOutcome,
} from "./lib/results.ts";
import { runsOn, SCENARIOS } from "./lib/scenario_list.ts";
import { type SystemInfo, SYSTEMS } from "./lib/systems.ts";
import { checkTargets, targetLines } from "./lib/targets.ts";
import { figuresTable, fmt, notes, ratioTable } from "./lib/table.ts";

const { values: opt } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    systems: { type: "string" },
    scenarios: { type: "string" },
    "runs-fast": { type: "string" },
    "runs-big": { type: "string" },
    out: { type: "string" },
    dir: { type: "string" },
    verbose: { type: "boolean", default: false },
    help: { type: "boolean", default: false },
  },
});
if (opt.help) {
  console.log(
    "usage: node bench/run.ts [--smoke] [--systems a,b] [--scenarios x,y]\n" +
      "  [--runs-fast N] [--runs-big N] [--out FILE] [--dir TMPDIR] [--verbose]\n" +
      `systems: ${SYSTEMS.map((s) => s.id).join(", ")}\n` +
      `scenarios: ${SCENARIOS.map((s) => s.id).join(", ")}`,
  );
  process.exit(0);
}

const mode = opt.smoke ? SMOKE : FULL;
const runsFast = Number(opt["runs-fast"] ?? mode.runsFast);
const runsBig = Number(opt["runs-big"] ?? mode.runsBig);
const runsOf = (id: string) =>
  SCENARIOS.find((s) => s.id === id)?.fast ? runsFast : runsBig;
const pick = <T extends { id: string }>(all: T[], list?: string): T[] => {
  if (!list) return all;
  const ids = list.split(",");
  for (const id of ids) {
    if (!all.some((x) => x.id === id)) throw new Error(`unknown id "${id}"`);
  }
  return all.filter((x) => ids.includes(x.id));
};
const systems = pick(SYSTEMS, opt.systems);
const scenarios = pick(SCENARIOS, opt.scenarios);
const benchDir = fileURLToPath(new URL(".", import.meta.url));
// A smoke run (every `make test`) must not replace the last full run's JSON.
const outFile = opt.out ??
  join(benchDir, "results", opt.smoke ? "smoke.json" : "latest.json");
const workDir = mkdtempSync(join(opt.dir ?? tmpdir(), "kvq-bench-"));

// Whatever happens, no redis-server, child or temporary file outlives the run.
const cleanup = () => {
  killAllChildren();
  stopAllRedis();
  rmSync(workDir, { recursive: true, force: true });
};
process.on("exit", cleanup);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping`);
    process.exit(130);
  });
}

const log = (line: string) => console.error(line);

/** Runs every chosen scenario on one system (its Redis already started, if any). */
async function runSystem(
  sys: SystemInfo,
  out: SystemOutcome,
  redisPort?: number,
): Promise<void> {
  const base = {
    system: sys.id,
    adapter: sys.adapter,
    dir: workDir,
    context: { redisPort },
  };
  const probe = await runChild(
    sys.runtime,
    {
      ...base,
      scenario: "probe",
      runs: 1,
      params: {
        count: 1,
        boundS: 15,
        setupBoundS: 15,
        chunk: 1,
        delayMs: 0,
        verify: true,
      },
    },
    90,
    opt.verbose,
  );
  out.runtime = probe.runtime;
  if (probe.status !== "ok") {
    out.status = probe.status;
    out.note = probe.note;
    log(`${sys.id}: ${probe.status}: ${probe.note}`);
    return;
  }
  for (const info of scenarios) {
    if (!runsOn(info, sys.id, sys.kvq)) {
      out.scenarios[info.id] = {
        status: "n/a",
        note: info.kvqOnly ? "kvq only" : "not run on this system",
        runs: [],
        median: {},
        complete: false,
        peakRssMb: 0,
      };
      continue;
    }
    const params = mode.params[info.id];
    const runs = runsOf(info.id);
    // Generous: the child's own bounds stop it long before this kill.
    const limit = runs * (params.boundS + params.setupBoundS + 60) + 60;
    const started = Date.now();
    const report = await runChild(
      sys.runtime,
      {
        ...base,
        scenario: info.id,
        runs,
        params,
      },
      limit,
      opt.verbose,
    );
    const o = aggregate(report);
    out.scenarios[info.id] = o;
    const figures = info.metrics
      .filter((m) => !m.optional || m.name in o.median)
      .map((m) => `${m.name} ${fmt(o.median[m.name])} ${m.unit}`);
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    log(
      `${sys.id} ${info.id}: ${
        o.status === "ok" ? figures.join(", ") : `${o.status}: ${o.note}`
      }` +
        `${
          o.status === "ok" && !o.complete ? " (time bound reached)" : ""
        } [${secs} s]`,
    );
  }
}

async function main(): Promise<number> {
  const startedAt = new Date();
  // Other work on the machine skews every figure: the load is recorded with them.
  const loadAtStart = loadavg()[0];
  log(
    `bench: ${
      opt.smoke ? "smoke" : "full"
    } mode, ${systems.length} systems, ${scenarios.length} scenarios`,
  );
  // The disk drifts during a run: its floor is taken before and after.
  const floorStart = measureFloor(mode.floorCommits, workDir);
  log(floorLine("at start", floorStart));
  const outcomes: SystemOutcome[] = [];
  for (const sys of systems) {
    const out: SystemOutcome = {
      id: sys.id,
      label: sys.label,
      runtime: sys.runtime,
      kvq: sys.kvq,
      status: "ok",
      scenarios: {},
    };
    outcomes.push(out);
    let redis: RedisServer | undefined;
    try {
      if (sys.redis) {
        if (!redisAvailable()) {
          out.status = "skipped";
          out.note = "redis-server not found: run bench/setup.sh";
          log(`${sys.id}: skipped: ${out.note}`);
          continue;
        }
        redis = await startRedis(sys.redis);
      }
      await runSystem(sys, out, redis?.port);
    } catch (e) {
      out.status = "failed";
      out.note = (e as Error).message;
      log(`${sys.id}: failed: ${out.note}`);
    } finally {
      await redis?.stop();
    }
  }

  const floorEnd = measureFloor(mode.floorCommits, workDir);
  log(floorLine("at end", floorEnd));
  const results: Results = {
    schema: 1,
    mode: opt.smoke ? "smoke" : "full",
    startedAt: startedAt.toISOString(),
    durationS: Math.round((Date.now() - startedAt.getTime()) / 1000),
    machine: {
      cpu: cpus()[0]?.model ?? "unknown",
      cores: cpus().length,
      memoryGb: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      orchestrator: `node ${process.versions.node}`,
      loadAvg1mStart: Number(loadAtStart.toFixed(2)),
      loadAvg1mEnd: Number(loadavg()[0].toFixed(2)),
    },
    floor: { start: floorStart, end: floorEnd },
    config: { runsFast, runsBig, params: mode.params },
    systems: outcomes,
    ratios: ratios(outcomes),
    targets: checkTargets(outcomes),
  };
  mkdirSync(join(outFile, ".."), { recursive: true });
  writeFileSync(outFile, JSON.stringify(results, null, 2) + "\n");

  const m = results.machine;
  console.log(
    `\nkvq bench, ${results.mode} mode, ${m.cores} cores, ${results.durationS} s, ` +
      `load average ${m.loadAvg1mStart} at start, ${m.loadAvg1mEnd} at end`,
  );
  console.log(
    "(* = stopped at its time bound; the figure is what it reached)\n",
  );
  console.log(figuresTable(outcomes));
  for (const k of outcomes.filter((s) => s.kvq && s.status === "ok")) {
    console.log("\n(ratio = how many times better kvq is; above 1 kvq wins)");
    console.log(ratioTable(k, outcomes, results.ratios));
  }
  if (results.targets.some((t) => t.met !== null)) {
    console.log(`\n${targetLines(results.targets)}`);
  }
  console.log(
    `\n${floorLine("at start", floorStart)}\n${floorLine("at end", floorEnd)}`,
  );
  const why = notes(outcomes);
  if (why) console.log(`\n${why}`);
  console.log(`\nresults: ${outFile}`);

  if (!opt.smoke) return outcomes.some((s) => s.status === "failed") ? 1 : 0;
  const summary = checkSmoke(outcomes, scenarios, runsOf, [
    floorStart,
    floorEnd,
  ]);
  for (const f of summary.failures) console.log(`FAIL ${f}`);
  console.log(
    `smoke: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`,
  );
  return summary.failed > 0 ? 1 : 0;
}

process.exitCode = await main();
