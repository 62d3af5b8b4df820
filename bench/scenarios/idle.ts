/**
 * Scenario (10): what an idle consumer costs. A listener (and, where the
 * system has watch, a watcher) with no traffic for `boundS` seconds: the
 * process's CPU time over that wall time, in percent of one core.
 */
import process from "node:process";
import { now } from "../lib/time.ts";
import { result, type Scenario } from "./common.ts";

/** Reports cpu_pct of an idle listener and watcher. */
export const idleCpu: Scenario = async (instance, params) => {
  instance.listen(() => {});
  const stop = instance.watchKey?.(0, () => {});
  try {
    // Let start-up work (first poll, first watch read) settle first.
    await new Promise((r) => setTimeout(r, 500));
    const cpu = process.cpuUsage();
    const start = now();
    await new Promise((r) => setTimeout(r, params.boundS * 1000));
    const used = process.cpuUsage(cpu);
    const wallMs = now() - start;
    const cpuMs = (used.user + used.system) / 1000;
    return result(1, 1, wallMs / 1000, { cpu_pct: (100 * cpuMs) / wallMs });
  } finally {
    stop?.();
  }
};
