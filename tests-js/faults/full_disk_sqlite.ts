/**
 * A full disk under kvq's embedded SQLite store, for real: the database
 * file on a small tmpfs that a filler file and kvq's own writes and
 * enqueues fill up (or, where mounting is refused, a file-size limit on
 * this process). What must hold:
 *
 * - a write that cannot be stored rejects with SQLite's "database or disk
 *   is full" (`TypeError`, code `KVQ_SQLITE`), and so does every write
 *   after it while the disk stays full; the process lives on;
 * - every write that resolved is still there, none that rejected is; a
 *   message whose enqueue resolved is delivered, one whose enqueue
 *   rejected never is;
 * - the file is not corrupt (`PRAGMA integrity_check` with sqlite3, on the
 *   full disk and again after a reopen);
 * - once space is freed, writes and the running listener work again on
 *   the same handle, without reopening;
 * - the same for a named queue (`kv.queue`, ordering groups): an enqueue
 *   the full disk refuses rejects as a write does, every one that
 *   resolved is delivered once space is freed, each group in order, none
 *   that rejected is, and the queue is left empty (named_ledger.ts).
 *
 *     tests-js/faults/full_disk.sh sqlite
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
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
import { NamedLedger } from "./named_ledger.ts";

const disk = theDisk();
const { openKv } = await import(
  new URL("../../npm/dist/index.js", import.meta.url).href
);
const path = join(disk.dir, "full.sqlite3");

// deno-lint-ignore no-explicit-any
type Kv = any;

function integrity(): string {
  return execFileSync("sqlite3", ["-readonly", path, "pragma integrity_check"])
    .toString().trim();
}

const ledger = new Ledger(4096);
const { stored, refused, enqueued, refusedMessages, delivered } = ledger;
const value = (i: number) => ledger.value(i);
const errors: unknown[] = [];

let kv: Kv = await openKv(path);
const listening = ledger.listen(kv);
const named = new NamedLedger(kv);
const namedListening = named.listen();

// Some data and messages on a disk with room, delivered as usual.
let next = await ledger.fillWithRoom(kv, 20, 5000);
for (let i = 0; i < 20; i++) {
  await named.enqueue(i, (e) => {
    throw e;
  });
}
let nextNamed = 20;
await until(() => named.allDelivered(), 5000, "the first 20 named messages");

// Fill: a filler leaves 256 KiB (or the file may grow 256 KiB more), then
// rounds of writes made together (so several share one group commit) and
// enqueues, until the disk refuses them.
const largest = () =>
  Math.max(
    ...["", "-wal", "-shm"].map((s) => {
      try {
        return statSync(path + s).size;
      } catch {
        return 0;
      }
    }),
  );
disk.fill({
  free: 256 << 10,
  fsize: largest() + (256 << 10),
  pids: () => [process.pid],
});
const fillStarted = Date.now();
for (let round = 0; errors.length === 0; round++) {
  if (Date.now() - fillStarted > 20_000) {
    throw new Error("FAILED: the disk never filled up (20 s of writes)");
  }
  const ids = Array.from({ length: 8 }, () => next++);
  const writes = ids.map((i) =>
    kv.set(["k", i], value(i)).then(
      () => stored.add(i),
      (e: unknown) => {
        refused.add(i);
        errors.push(e);
      },
    )
  );
  const id = ids[0];
  const enqueue = kv.enqueue({ id }).then(
    () => enqueued.add(id),
    (e: unknown) => {
      refusedMessages.add(id);
      errors.push(e);
    },
  );
  const namedEnqueue = named.enqueue(nextNamed++, (e) => errors.push(e));
  await Promise.all([...writes, enqueue, namedEnqueue]);
}
step(
  `the disk refused a write after ${stored.size} writes and ${enqueued.size} enqueues resolved`,
);

// While full: more writes fail the same way; nothing crashes.
for (let i = 0; i < 5; i++) {
  const id = next++;
  await kv.set(["k", id], value(id)).then(
    () => stored.add(id),
    (e: unknown) => {
      refused.add(id);
      errors.push(e);
    },
  );
  await kv.enqueue({ id }).then(
    () => enqueued.add(id),
    (e: unknown) => {
      refusedMessages.add(id);
      errors.push(e);
    },
  );
  await named.enqueue(nextNamed++, (e) => errors.push(e));
}
const texts = [...new Set(errors.map(shown))];
step(`what the caller sees: ${texts.map((t) => JSON.stringify(t)).join(", ")}`);
// ENOSPC is SQLITE_FULL; a file-size limit's EFBIG is an I/O error to SQLite.
const expected = disk.mode === "tmpfs"
  ? "database or disk is full"
  : "disk I/O error";
check(
  errors.every((e) =>
    e instanceof TypeError &&
    (e as { code?: string }).code === "KVQ_SQLITE" &&
    e.message === expected
  ),
  `every refused write is TypeError [KVQ_SQLITE] "${expected}" (${errors.length} of them)`,
);
check(refused.size >= 5, "writes keep failing while the disk is full");
check(
  named.refused.size >= 5,
  `named enqueues keep failing while the disk is full (${named.refused.size} refused, ${named.enqueued.size} resolved)`,
);

// Reads still work on the full disk and see exactly what resolved.
await ledger.readBack(kv, "on the full disk");
check(integrity() === "ok", "PRAGMA integrity_check on the full disk: ok");
check(!ledger.listenerEnded, "the listener is still running");
check(!named.listenerEnded, "the named listener is still running");

// Space comes back: the same handle writes again, the same listener
// delivers every message whose enqueue resolved, and a new one.
disk.free();
const resumed = Date.now();
const after = next++;
await within(
  until(
    () => kv.set(["k", after], value(after)).then(() => true, () => undefined),
    5000,
    "a write after space was freed",
  ),
  6000,
  "a write after space was freed",
);
stored.add(after);
step(
  `a write succeeds again after ${Date.now() - resumed} ms, without reopening`,
);
await kv.enqueue({ id: after });
enqueued.add(after);
await until(
  () => [...enqueued].every((id) => delivered.has(id)),
  10_000,
  "every message whose enqueue resolved delivered",
);
check(
  true,
  `all ${enqueued.size} messages whose enqueue resolved were delivered, the one after freeing too`,
);
await sleep(200); // a refused message delivered late would show here
const ghosts = [...refusedMessages].filter((id) => delivered.has(id));
check(
  ghosts.length === 0,
  `no refused enqueue was delivered (${refusedMessages.size} refused)`,
);
check(!ledger.listenerEnded, "the listener ran through it all");

// The named queue: a message after freeing, and every acknowledged one.
await named.enqueue(nextNamed++, (e) => {
  throw e;
});
await until(
  () => named.allDelivered(),
  10_000,
  "every named message whose enqueue resolved delivered",
);
await named.checkDrained("after space was freed");
check(!named.listenerEnded, "the named listener ran through it all");
named.close();
await namedListening;

kv.close();
await listening;
kv = await openKv(path);
await ledger.readBack(kv, "after freeing and reopening");
kv.close();
check(integrity() === "ok", "PRAGMA integrity_check after reopening: ok");
console.log(`full disk, SQLite (${disk.mode}): passed`);
