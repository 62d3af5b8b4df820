/**
 * Child entry: runs one scenario (all its runs) on one system and prints one
 * JSON line (lib/types.ts ChildReport) on stdout. Runs unchanged on Node 24,
 * Deno and Bun. Usage: `<runtime> bench/worker.ts '<ChildJob as JSON>'`.
 * Diagnostics go to stderr; stdout carries only the report.
 */
import { mkdtempSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { runtimeCommand } from "./lib/child.ts";
import { payload } from "./lib/payload.ts";
import type { Runtime } from "./lib/systems.ts";
import { Tracker } from "./lib/tracker.ts";
import {
  type ChildJob,
  type ChildReport,
  NotAvailableError,
  type RunResult,
  type SystemAdapter,
  type SystemInstance,
} from "./lib/types.ts";
import { IMPLEMENTATIONS } from "./scenarios/index.ts";
import { peakRssMb } from "./scenarios/common.ts";

/** How long the probe waits for its one message. */
const PROBE_TIMEOUT_MS = 15_000;

/** This child's runtime, as the system list names it. */
function runtime(): Runtime {
  const g = globalThis as { Deno?: unknown; Bun?: unknown };
  if (g.Deno) return "deno";
  if (g.Bun) return "bun";
  return "node";
}

function runtimeName(): string {
  const g = globalThis as {
    Deno?: { version: { deno: string } };
    Bun?: { version: string };
  };
  if (g.Deno) return `deno ${g.Deno.version.deno}`;
  if (g.Bun) return `bun ${g.Bun.version}`;
  return `node ${process.versions.node}`;
}

/** Probe: the system opens, delivers one message and closes. */
async function probe(instance: SystemInstance): Promise<RunResult> {
  const tracker = new Tracker(1);
  instance.listen(tracker.onMessage);
  await instance.enqueue(payload(0));
  if (!(await tracker.waitFor(1, PROBE_TIMEOUT_MS))) {
    throw new Error("probe: the message was not delivered");
  }
  return {
    target: 1,
    done: 1,
    complete: true,
    seconds: 0,
    duplicates: 0,
    metrics: {},
  };
}

async function runJob(job: ChildJob): Promise<ChildReport> {
  const report: ChildReport = {
    system: job.system,
    scenario: job.scenario,
    status: "ok",
    runs: [],
    peakRssMb: 0,
    runtime: runtimeName(),
  };
  const scenario = job.scenario === "probe"
    ? probe
    : IMPLEMENTATIONS[job.scenario];
  if (!scenario) throw new Error(`unknown scenario ${job.scenario}`);
  try {
    const url = new URL(job.adapter, import.meta.url).href;
    const adapter = (await import(url)).system as SystemAdapter;
    for (let r = 0; r < job.runs; r++) {
      const dir = mkdtempSync(join(job.dir, `${job.system}-${job.scenario}-`));
      try {
        const instance = await adapter.open(dir, job.context);
        try {
          const run = {
            adapterUrl: url,
            dir,
            context: job.context,
            runtimeCommand: runtimeCommand(runtime()),
          };
          report.runs.push(await scenario(instance, job.params, run));
        } finally {
          await instance.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  } catch (e) {
    report.status = e instanceof NotAvailableError ? "skipped" : "failed";
    report.note = (e as Error).message;
    if (report.status === "failed") console.error((e as Error).stack ?? e);
  }
  report.peakRssMb = await peakRssMb();
  return report;
}

const job = JSON.parse(process.argv[2] ?? "null") as ChildJob | null;
if (!job) {
  console.error("usage: worker.ts '<job JSON>' (bench/run.ts builds it)");
  process.exit(2);
}
const report = await runJob(job as ChildJob);
// Synchronous write, then exit: consumers (BullMQ workers, queue listeners)
// may keep the event loop alive after close, and the report must be whole.
writeSync(1, JSON.stringify(report) + "\n");
process.exit(0);
