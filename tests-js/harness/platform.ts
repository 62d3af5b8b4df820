/**
 * What the runner scripts need from the runtime: argv, env, temp files, exit,
 * and loading a package entry file. Written on `node:` modules, which Deno,
 * Bun and Node all provide, so every runner shares this one file.
 *
 * @module
 */

import {
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe } from "./assert.ts";
import type { Case, Target } from "./types.ts";
import { runCases } from "./runner.ts";

/** A per-run temp directory and a counter of database files in it. */
export interface TempDir {
  /** The directory; removed by `dispose`. */
  dir: string;
  /** A new database file path inside `dir`. */
  next(): string;
  /** Removes the directory and everything in it. */
  dispose(): void;
}

/** Creates a temp directory for one run. */
export function makeTempDir(prefix = "kvq-conformance-"): TempDir {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let n = 0;
  return {
    dir,
    next: () => join(dir, `db-${++n}.sqlite3`),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Name filters: every argv word that is not a `--flag`, plus the
 * comma-separated KVQ_FILTER environment variable.
 */
export function filtersFromArgs(
  argv: string[] = process.argv.slice(2),
): string[] {
  const fromArgs = argv.filter((a) => !a.startsWith("--"));
  const fromEnv = (process.env.KVQ_FILTER ?? "").split(",").filter((s) =>
    s.length > 0
  );
  return [...fromArgs, ...fromEnv];
}

/** The value of `--name=value` in argv, if any. */
export function flag(
  name: string,
  argv: string[] = process.argv.slice(2),
): string | undefined {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit?.slice(name.length + 3);
}

/**
 * The repository root: the nearest ancestor of this file that holds
 * `tests-js/harness` (this also works from an esbuild bundle placed anywhere
 * inside the repository), else the working directory.
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "tests-js", "harness"))) return dir;
    const up = dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}

/**
 * The entry file of the package in `dir` (relative to the repository root):
 * from package.json (exports["."].import, itself a string or conditions
 * whose `default` is taken, then module, then main) or from deno.json
 * (exports), else `fallback`.
 */
export function packageEntry(dir: string, fallback: string): string {
  const root = join(repoRoot(), dir);
  for (const manifest of ["package.json", "deno.json"]) {
    const file = join(root, manifest);
    if (!existsSync(file)) continue;
    const json = JSON.parse(readFileSync(file, "utf8"));
    const exp = json.exports;
    const dot = typeof exp === "string" ? exp : exp?.["."];
    const chosen = typeof dot === "string" ? dot : dot?.import ?? dot?.default;
    const entry = typeof chosen === "string"
      ? chosen
      : chosen?.default ?? json.module ?? json.main;
    if (typeof entry === "string") return join(dir, entry);
  }
  return join(dir, fallback);
}

/**
 * Imports a kvq package entry file given relative to the repository root.
 * Fails with a message saying what to build when the file does not exist.
 */
export async function importEntry(
  relPath: string,
  what: string,
): Promise<Record<string, unknown>> {
  const file = join(repoRoot(), relPath);
  if (!existsSync(file)) {
    throw new Error(
      `${what} is not built: ${relPath} does not exist (build it first)`,
    );
  }
  try {
    // A computed specifier keeps esbuild from trying to bundle the package.
    return await import(pathToFileURL(file).href);
  } catch (e) {
    throw new Error(`${what} failed to load from ${relPath}: ${describe(e)}`);
  }
}

/** Unhandled rejections from a failed case must not kill the whole run. */
function keepRunningOnStrayErrors(): void {
  process.on("unhandledRejection", (reason: unknown) => {
    console.error(`(stray rejection after a case: ${describe(reason)})`);
  });
}

/**
 * The whole of a runner script after it has built its targets: runs the
 * cases, removes the temp directory and exits with 1 on any failure.
 */
export async function main(
  makeTargets: (temp: TempDir) => Promise<Target[]>,
  cases: Case[],
): Promise<never> {
  keepRunningOnStrayErrors();
  const temp = makeTempDir();
  let code = 1;
  try {
    const targets = await makeTargets(temp);
    const timeout = Number(process.env.KVQ_CASE_TIMEOUT_MS ?? "") || undefined;
    const summary = await runCases(targets, cases, {
      filters: filtersFromArgs(),
      timeoutMs: timeout,
    });
    code = summary.failed > 0 ? 1 : 0;
    // KVQ_RESULTS_DIR collects every runner's outcomes, so one report can
    // show each case on every runtime (tests-js/report.ts).
    const resultsDir = process.env.KVQ_RESULTS_DIR;
    if (resultsDir) {
      for (const r of summary.results) {
        writeFileSync(
          join(resultsDir, `${r.target}.json`),
          JSON.stringify(r, null, 1),
        );
      }
    }
  } catch (e) {
    console.error(
      `runner error: ${e instanceof Error ? e.message : describe(e)}`,
    );
  } finally {
    temp.dispose();
  }
  // Exit explicitly: a timed-out case may still hold timers or listeners.
  process.exit(code);
}
