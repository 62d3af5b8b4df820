/**
 * Opening never stalls the event loop (issue 10, item 5): while another
 * process (lock_holder.ts, Node's own SQLite) holds the write lock of a
 * fresh file for 10 s, kvq on Node, Bun and Deno (FFI) opens it with a
 * 10 ms interval timer running on the opening thread. The open waits off
 * that thread, a bounded time, and either opens or rejects with the
 * engine's clear KVQ_LOCKED error; either way no gap between two ticks is
 * longer than GAP_LIMIT_MS. Once the lock is free, the file opens.
 *
 * Run: deno run -A --unstable-kv tests-js/interop/open_lock_test.ts
 *
 * @module
 */

import { join } from "node:path";
import { Checks, resultOf } from "./checks.ts";
import {
  missingBuilds,
  runChild,
  type Runtime,
  startChild,
  tempDir,
} from "./processes.ts";

const RUNTIMES: Runtime[] = ["node", "bun", "deno"];
const HOLD_MS = 10_000;
/** Ticks every 10 ms; a loop that is never blocked stays far below this. */
const GAP_LIMIT_MS = 50;
const CHILD_TIMEOUT_MS = 30_000;

interface Outcome {
  opened: boolean;
  error?: string;
  code?: string;
  waitedMs: number;
  maxGapMs: number;
  ticks: number;
}

const checks = new Checks();
const missing = missingBuilds(RUNTIMES);
const temp = tempDir("kvq-open-lock-");
if (missing.length > 0) {
  checks.check("kvq is built", false, `missing ${missing.join(", ")}`);
} else {
  // One fresh file and one holder per runtime, all at once.
  await Promise.all(RUNTIMES.map(async (runtime) => {
    const file = join(temp.dir, `${runtime}.sqlite3`);
    const holder = startChild("node", "./lock_holder.ts", [file, `${HOLD_MS}`]);
    await holder.line("locked", CHILD_TIMEOUT_MS);
    const child = await runChild(
      runtime,
      "./open_lock_child.ts",
      [file],
      CHILD_TIMEOUT_MS,
    );
    const out = resultOf(child) as Outcome | undefined;
    const name = `${runtime}: openKv on a locked file`;
    if (out === undefined) {
      checks.absorb(`${runtime}: `, child);
      return;
    }
    console.log(`# ${runtime}: ${JSON.stringify(out)}`);
    checks.check(
      `${name} opens, or rejects with KVQ_LOCKED`,
      out.opened || out.code === "KVQ_LOCKED",
      JSON.stringify(out),
    );
    checks.check(
      `${name}: the timer kept firing (longest gap under ${GAP_LIMIT_MS} ms)`,
      out.maxGapMs < GAP_LIMIT_MS,
      `longest gap ${out.maxGapMs.toFixed(1)} ms over ${
        out.waitedMs.toFixed(0)
      } ms, ${out.ticks} ticks`,
    );
    checks.check(
      `${name}: it waited for the lock`,
      out.waitedMs > 1000,
      `answered after ${out.waitedMs.toFixed(0)} ms`,
    );
    await holder.line("released", HOLD_MS + CHILD_TIMEOUT_MS);
    await holder.finish(CHILD_TIMEOUT_MS);
    const after = await runChild(
      runtime,
      "./open_lock_child.ts",
      [file],
      CHILD_TIMEOUT_MS,
    );
    const reopened = resultOf(after) as Outcome | undefined;
    checks.check(
      `${runtime}: once the lock is free, the file opens`,
      reopened?.opened === true,
      JSON.stringify(reopened ?? after.stderr),
    );
  }));
}
temp.dispose();
checks.finish();
