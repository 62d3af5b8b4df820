/**
 * A full disk under a KV Connect store, for real: the denokv server's
 * SQLite file on a small tmpfs (scripts/denokv.sh with KVQ_DENOKV_DIR), a
 * filler file and kvq's writes fill it (or, where mounting is refused, a
 * file-size limit on the server process). The server answers a write it
 * cannot store with a 500; kvq's client retries 5xx for 30 s. What must
 * hold:
 *
 * - a write (and an enqueue, the queue made of keys) made while the disk
 *   stays full rejects after the 30 s with a clear `Error` (code
 *   `KVQ_REMOTE`) naming the server's endpoint and the status, never the
 *   token; the process lives on, reads work meanwhile;
 * - a write made while the disk is full and space freed within the 30 s
 *   resolves, on the same handle;
 * - nothing that resolved is lost, nothing that rejected is there: on the
 *   same handle, after a server restart, and in the server's file
 *   (`PRAGMA integrity_check`); every message whose enqueue resolved is
 *   delivered to the listener that ran through it all.
 *
 *     tests-js/faults/full_disk.sh denokv
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import {
  check,
  Ledger,
  shown,
  sleep,
  step,
  theDisk,
  until,
  within,
} from "./disk.ts";

const disk = theDisk();
const url = process.env.KVQ_DENOKV_URL ?? "";
const ctl = process.env.KVQ_DENOKV_CTL ?? "";
const token = process.env.DENO_KV_ACCESS_TOKEN ?? "";
if (!url || !ctl || !token) {
  console.error("full_disk_denokv: run it under scripts/denokv.sh");
  process.exit(2);
}
const { openKv } = await import(
  new URL("../../npm/dist/index.js", import.meta.url).href
);
const db = join(disk.dir, "kv.sqlite3");
const serverPid = () =>
  Number(readFileSync(join(dirname(ctl), "pid"), "utf8").trim());

// deno-lint-ignore no-explicit-any
type Kv = any;

const ledger = new Ledger(2048);
const { stored, refused, enqueued, refusedMessages, delivered } = ledger;
const value = (i: number) => ledger.value(i);

const kv: Kv = await openKv(url);
const listening = ledger.listen(kv);

let next = await ledger.fillWithRoom(kv, 10, 10_000);

/** Settles `p` into the sets, or reports it still pending after `ms`. */
function track(p: Promise<unknown>, ok: () => void, no: () => void) {
  let state: "pending" | "resolved" | "rejected" = "pending";
  let error: unknown;
  const settled = p.then(
    () => {
      state = "resolved";
      ok();
    },
    (e) => {
      state = "rejected";
      error = e;
      no();
    },
  );
  return { settled, state: () => state, error: () => error };
}

// Fill: writes one after another until one is not answered within 2 s
// (the server answers 500, the client keeps retrying).
const largest = Math.max(
  ...["", "-wal"].map((s) => {
    try {
      return statSync(db + s).size;
    } catch {
      return 0;
    }
  }),
);
disk.fill({
  free: 128 << 10,
  fsize: largest + (128 << 10),
  pids: () => [serverPid()],
});
const fillStarted = Date.now();
let stuck: ReturnType<typeof track> | undefined;
while (!stuck) {
  if (Date.now() - fillStarted > 20_000) {
    throw new Error("FAILED: the disk never filled up (20 s of writes)");
  }
  const id = next++;
  const w = track(
    kv.set(["k", id], value(id)),
    () => stored.add(id),
    () => refused.add(id),
  );
  await Promise.race([w.settled, sleep(2000)]);
  if (w.state() === "pending") {
    stuck = w;
  } else if (w.state() === "rejected") {
    throw new Error(`FAILED: a write rejected at once: ${shown(w.error())}`);
  }
}
const stuckAt = Date.now() - 2000;
step(
  `a write is not answered (the client retries): ${stored.size} resolved before`,
);
disk.topUp();
const stuckMessage = next++;
const stuckEnqueue = track(
  kv.enqueue({ id: stuckMessage }),
  () => enqueued.add(stuckMessage),
  () => refusedMessages.add(stuckMessage),
);

// Meanwhile reads work and see every resolved write.
// (Another handle: on this one a read waits for the writes made before it,
// so that it sees them.)
const reader: Kv = await openKv(url);
await within(
  ledger.readBack(reader, "while full, another handle"),
  5000,
  "reads while full",
);
reader.close();

// The write and the enqueue made on the full disk fail after the 30 s.
await within(stuck.settled, 36_000, "the write made on the full disk settles");
// The enqueue's writes may wait behind the stuck write and then retry for
// a window of their own (seen once: not settled 10 s after the write).
await within(
  stuckEnqueue.settled,
  36_000,
  "the enqueue made on the full disk settles",
);
const waited = Date.now() - stuckAt;
const clear = (e: unknown) =>
  e instanceof Error && (e as { code?: string }).code === "KVQ_REMOTE" &&
  e.message.startsWith(`KV Connect failed to call '${url}`) &&
  e.message.includes("status=500") && !e.message.includes(token);
step(
  `the write on the full disk, after ${(waited / 1000).toFixed(1)} s: ${
    shown(stuck.error())
  }`,
);
check(
  stuck.state() === "rejected" && clear(stuck.error()),
  "it rejects with Error [KVQ_REMOTE] naming the endpoint and status 500, not the token",
);
// A small commit may still find room in the server's file where a larger
// one did not: the enqueue either lands (and is delivered below) or fails
// as clearly.
step(
  `the enqueue on the full disk: ${stuckEnqueue.state()} ${
    stuckEnqueue.error() ? shown(stuckEnqueue.error()) : ""
  }`,
);
check(
  stuckEnqueue.state() === "resolved" || clear(stuckEnqueue.error()),
  "the enqueue on the full disk resolves or rejects as clearly",
);
check(waited >= 25_000, `it was retried for the 30 s first (${waited} ms)`);
check(!ledger.listenerEnded, "the listener is still running");

// A write made on the full disk and space freed within the 30 s: it lands.
const late = next++;
const lateWrite = track(
  kv.set(["k", late], value(late)),
  () => stored.add(late),
  () => refused.add(late),
);
await sleep(1000);
check(
  lateWrite.state() === "pending",
  "a new write on the full disk is retried, not answered",
);
disk.free();
const freed = Date.now();
await within(
  lateWrite.settled,
  30_000,
  "the retried write settles once space is freed",
);
check(
  lateWrite.state() === "resolved",
  "it resolves once space is freed, same handle",
);
step(`resolved ${Date.now() - freed} ms after space was freed`);

const after = next++;
await kv.enqueue({ id: after });
enqueued.add(after);
await until(
  () => [...enqueued].every((id) => delivered.has(id)),
  15_000,
  "every message whose enqueue resolved delivered",
);
check(
  true,
  `all ${enqueued.size} messages whose enqueue resolved were delivered`,
);
check(
  ![...refusedMessages].some((id) => delivered.has(id)),
  `no rejected enqueue was delivered (${refusedMessages.size} rejected)`,
);
check(!ledger.listenerEnded, "the listener ran through it all, same handle");
await ledger.readBack(kv, "after freeing");

// The server restarted: its file holds it all and is not corrupt.
execFileSync(ctl, ["restart"]);
await ledger.readBack(kv, "after a server restart");
const integrity = execFileSync("sqlite3", [
  "-readonly",
  db,
  "pragma integrity_check",
])
  .toString().trim();
check(integrity === "ok", "PRAGMA integrity_check on the server's file: ok");
kv.close();
await listening;
console.log(`full disk, KV Connect (${disk.mode}): passed`);
