/**
 * A full disk under a Postgres store, for real: a private server
 * (scripts/pg.sh) whose data folder lives on a small tmpfs (TMPDIR points
 * there), filled by a filler file and kvq's own writes. Two ways a full
 * disk hits Postgres, one phase each:
 *
 * 1. A table file cannot grow: the statement fails with "could not extend
 *    file ... No space left on device"; the server stays up.
 * 2. The WAL cannot grow: Postgres PANICs, restarts, and its recovery,
 *    which must write WAL too, fails, so the server shuts down; it comes
 *    back only when started again after space is freed (here the test
 *    does what an operator would: `$KVQ_POSTGRES_CTL start`). The WAL
 *    grows a 16 MB segment at a time; `pg_switch_wal()` makes the next
 *    write need a new segment now, on a disk with less than 16 MB free,
 *    rather than after 16 MB of writes.
 *
 * Where mounting is refused, one phase runs with a file-size limit on the
 * server's processes instead (a write past it fails with EFBIG, "File too
 * large"; Postgres ignores SIGXFSZ).
 *
 * What must hold in each phase: every error a kvq call gives is an `Error`
 * (code `KVQ_POSTGRES`) that names the host, port and database and never
 * the password; the process lives on; kvq reconnects by itself once the
 * server is back; every write and enqueue that resolved is there and every
 * such message is delivered, none that rejected is; writes and the
 * running `listenQueue` resume on the same handle, without reopening.
 * The same for a named queue (`kv.queue`, ordering groups) enqueued
 * beside the writes: a refused enqueue fails as a write does, every one
 * that resolved is delivered after freeing, each group in order, none
 * that rejected is, and the queue is left empty (named_ledger.ts).
 *
 *     tests-js/faults/full_disk.sh postgres
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import {
  check,
  Ledger,
  processTree,
  shown,
  sleep,
  step,
  theDisk,
  until,
  within,
} from "./disk.ts";
import { NamedLedger } from "./named_ledger.ts";

const disk = theDisk();
const url = process.env.KVQ_POSTGRES_URL ?? "";
const admin = process.env.KVQ_POSTGRES_ADMIN_URL ?? "";
const ctl = process.env.KVQ_POSTGRES_CTL ?? "";
if (!url || !admin || !ctl) {
  console.error("full_disk_postgres: run it under scripts/pg.sh");
  process.exit(2);
}
const { openKv } = await import(
  new URL("../../npm/dist/index.js", import.meta.url).href
);
const { hostname, port, password } = new URL(url);
const place = `${hostname}:${port}`;
// scripts/pg.sh's folder: the one kvq-pg.* folder on this disk.
const pgDir = join(
  disk.dir,
  readdirSync(disk.dir).find((d) => d.startsWith("kvq-pg.")) ?? "",
);
const pidFile = join(pgDir, "data", "postmaster.pid");
const serverUp = () => existsSync(pidFile);
const postmaster = () => Number(readFileSync(pidFile, "utf8").split("\n")[0]);

function sql(text: string): string {
  return execFileSync("psql", ["-X", "-q", "-t", "-A", admin, "-c", text], {
    stdio: ["ignore", "pipe", "pipe"],
  }).toString().trim();
}

// deno-lint-ignore no-explicit-any
type Kv = any;

const ledger = new Ledger(4096);
const { stored, refused, enqueued, refusedMessages, delivered } = ledger;
const value = (i: number) => ledger.value(i);
const seen = new Map<string, number>(); // what callers saw, and how often

/** The server's log (scripts/pg.sh keeps it beside its ctl script). */
const serverLog = join(dirname(ctl), "server.log");
function serverLogSize(): number {
  return existsSync(serverLog) ? statSync(serverLog).size : 0;
}
function serverLogFrom(offset: number): string {
  return existsSync(serverLog)
    ? readFileSync(serverLog).subarray(offset).toString("utf8")
    : "";
}

function isClear(e: unknown): boolean {
  return e instanceof Error &&
    (e as { code?: string }).code === "KVQ_POSTGRES" &&
    e.message.includes(place) && e.message.includes('database "kvq"') &&
    !e.message.includes(password);
}
function saw(e: unknown): void {
  const text = shown(e);
  seen.set(text, (seen.get(text) ?? 0) + 1);
}

const kv: Kv = await openKv(url);
const listening = ledger.listen(kv);
const named = new NamedLedger(kv);
const namedListening = named.listen();

let next = 0;
let nextNamed = 0;
async function writeRound(n: number): Promise<number> {
  const ids = Array.from({ length: n }, () => next++);
  let failures = 0;
  const writes = ids.map((i) =>
    kv.set(["k", i], value(i)).then(
      () => stored.add(i),
      (e: unknown) => {
        refused.add(i);
        saw(e);
        failures++;
      },
    )
  );
  const id = ids[0];
  const enqueue = kv.enqueue({ id }).then(
    () => enqueued.add(id),
    (e: unknown) => {
      refusedMessages.add(id);
      saw(e);
      failures++;
    },
  );
  const namedEnqueue = named.enqueue(nextNamed++, (e: unknown) => {
    saw(e);
    failures++;
  });
  await Promise.all([...writes, enqueue, namedEnqueue]);
  return failures;
}

for (let i = 0; i < 5; i++) await writeRound(4);
await until(
  () => delivered.size === 5,
  10_000,
  "the first 5 messages delivered",
);
await until(() => named.allDelivered(), 10_000, "the first 5 named messages");
check(named.refused.size === 0, "no named enqueue refused with room");

/**
 * One full-disk episode: `makeFull` fills the disk, writes go on until
 * the disk refuses one, then space is freed and everything must resume.
 */
async function episode(
  name: string,
  makeFull: () => void,
  refusal: RegExp,
): Promise<void> {
  console.log(`phase: ${name}`);
  seen.clear();
  const logFrom = serverLogSize();
  const namedRefusedBefore = named.refused.size;
  makeFull();
  const started = Date.now();
  while ((await writeRound(8)) === 0) {
    if (Date.now() - started > 20_000) {
      throw new Error("FAILED: the disk never filled up (20 s of writes)");
    }
  }
  step(
    `the disk refused a write; ${stored.size} writes, ${enqueued.size} enqueues resolved so far`,
  );
  // Until the server has settled: up and answering, or shut down (or,
  // after 5 s, still failing to recover: so it is under a file-size limit).
  const refusedAt = Date.now();
  const settled = await until(
    () => {
      if (!serverUp()) {
        return "down (it gave up: its recovery cannot write WAL either)";
      }
      try {
        sql("select 1");
        return "up";
      } catch {
        return Date.now() - refusedAt > 5000 ? "still recovering" : undefined;
      }
    },
    10_000,
    "the server is up or down",
    100,
  );
  step(`the server is ${settled}`);
  // More tries while the disk stays full.
  let pending = 0;
  for (let i = 0; i < 3; i++) {
    const round = writeRound(1).then(() => pending--);
    pending++;
    await Promise.race([round, sleep(1000)]);
  }
  if (pending > 0) {
    step(
      `${pending} of 3 more writes made on the full disk are still waiting after 1 s each`,
    );
  }
  for (const [text, n] of seen) step(`caller saw ${n}x: ${text}`);
  // Under a file-size limit any of the server's processes may be the one
  // refused (the WAL writer, the checkpointer): it PANICs, and callers see
  // only the crash. Its log then says why.
  const byCaller = [...seen.keys()].some((t) => refusal.test(t));
  const byServer = !byCaller && disk.mode !== "tmpfs" &&
    refusal.test(serverLogFrom(logFrom));
  check(
    byCaller || byServer,
    `a write is refused with ${refusal}${
      byServer ? " (in a server process of its own, per its log)" : ""
    }`,
  );
  const errors = [...seen.keys()];
  check(
    errors.every((t) =>
      t.startsWith("Error [KVQ_POSTGRES]: ") && t.includes(place) &&
      t.includes('database "kvq"') && !t.includes(password)
    ),
    `every error is Error [KVQ_POSTGRES] naming ${place} and database "kvq", never the password`,
  );
  check(
    !ledger.listenerEnded && !named.listenerEnded,
    "the process and its listeners are still running",
  );
  step(
    `named enqueues refused in this phase: ${
      named.refused.size - namedRefusedBefore
    }`,
  );

  disk.free();
  if (!serverUp()) {
    execFileSync(ctl, ["start"]);
    step("started the server again (Postgres had shut down)");
  }
  const freed = Date.now();
  // The same handle: kvq reconnects by itself.
  const after = next++;
  await within(
    until(
      () =>
        kv.set(["k", after], value(after)).then(
          () => true,
          (e: unknown) => {
            if (!isClear(e)) throw e;
            return undefined;
          },
        ),
      20_000,
      "a write on the same handle after space was freed",
      200,
    ),
    25_000,
    "a write after space was freed",
  );
  stored.add(after);
  step(`a write succeeds again ${Date.now() - freed} ms after space was freed`);
  // From the first refusal until the server answered again.
  const outage = Date.now() - refusedAt;
  // Writes still pending from the full disk have settled by now.
  await writeRound(4);
  await until(
    () => [...enqueued].every((id) => delivered.has(id)),
    15_000,
    "every message whose enqueue resolved delivered",
  );
  check(
    true,
    `all ${enqueued.size} messages whose enqueue resolved were delivered, the running listener`,
  );
  check(
    ![...refusedMessages].some((id) => delivered.has(id)),
    `no rejected enqueue was delivered (${refusedMessages.size} rejected)`,
  );
  check(!ledger.listenerEnded, "the same listener runs on");
  await until(
    () => named.allDelivered(),
    15_000,
    "every named message whose enqueue resolved delivered",
  );
  // An acknowledgement the crash lost comes back once its lease lapsed
  // and the engine's sweep, held off for as long as the outage lasted,
  // runs again (named_ledger.ts).
  await named.checkDrained(name, outage + 10_000);
  check(!named.listenerEnded, "the same named listener runs on");
  await ledger.readBack(kv, name);
}

if (disk.mode === "tmpfs") {
  await episode(
    "a table file cannot grow",
    () => disk.fill({ free: 1 << 20, fsize: 0, pids: () => [] }),
    /could not extend file ".*": No space left on device/,
  );
  await episode(
    "the WAL cannot grow",
    () => {
      // Room for the tables, not for another 16 MB WAL segment.
      disk.fill({ free: 4 << 20, fsize: 0, pids: () => [] });
      sql("select pg_switch_wal()");
    },
    /could not write to file "pg_wal\/.*": No space left on device/,
  );
} else {
  await episode(
    "no file may grow past 8 MB",
    () =>
      disk.fill({
        free: 0,
        fsize: 8 << 20,
        pids: () => serverUp() ? processTree(postmaster()) : [],
      }),
    /File too large/,
  );
}

check(
  named.refused.size > 0,
  `the full disk refused named enqueues too (${named.refused.size}), each as a write is`,
);

// The server restarted cleanly: everything is still there.
execFileSync(ctl, ["restart"]);
step("restarted the server");
await ledger.readBack(kv, "after a clean restart");
named.close();
await namedListening;
kv.close();
await listening;
console.log(`full disk, Postgres (${disk.mode}): passed`);
