/**
 * The full disk the full-disk tests write to, as tests-js/faults/full_disk.sh
 * prepared it: a small tmpfs mounted on KVQ_FULL_DISK_DIR (mode "tmpfs"), or,
 * where mounting is refused, a plain folder and a file-size limit
 * (RLIMIT_FSIZE) put on the process that writes (mode "fsize"). Also the
 * small checks and the step log the three tests share.
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import {
  closeSync,
  openSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import process from "node:process";

/** How the disk is made full. */
export type Mode = "tmpfs" | "fsize";

/** The disk under test. */
export interface Disk {
  /** The folder (a tmpfs mount point in mode "tmpfs"). */
  dir: string;
  mode: Mode;
  /**
   * Makes the disk (nearly) full: on the tmpfs a filler file leaves
   * `free` bytes; in mode "fsize" no file of `pids` (nor of children they
   * start later, which inherit it) may grow past `fsize` bytes; `free()`
   * asks `pids` again (a server may have started new processes).
   */
  fill(how: { free: number; fsize: number; pids: () => number[] }): void;
  /**
   * Takes what little room is left (tmpfs): appends to the filler until the
   * disk refuses, so that no write of any size fits.
   */
  topUp(): void;
  /** Frees the space again: deletes the filler, or lifts the limit. */
  free(): void;
  /** Free bytes on the disk (tmpfs), for the log. */
  available(): number;
}

const started = Date.now();

/** Prints one step of the test with the time since it started. */
export function step(text: string): void {
  console.log(`  [${((Date.now() - started) / 1000).toFixed(1)} s] ${text}`);
}

/** Throws (so the test fails) unless `ok`. */
export function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`FAILED: ${what}`);
  step(`ok: ${what}`);
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((r) => setTimeout(r, ms));

/** Resolves to what `p` gives, or rejects after `ms` naming `what`. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`FAILED: ${what} within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** Repeats `f` every `every` ms until it gives a truthy value. */
export async function until<T>(
  f: () => Promise<T | undefined> | T | undefined,
  ms: number,
  what: string,
  every = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const got = await f();
    if (got) return got;
    if (Date.now() > deadline) {
      throw new Error(`FAILED: ${what} within ${ms} ms`);
    }
    await sleep(every);
  }
}

/** The process ids of `pid` and all its descendants. */
export function processTree(pid: number): number[] {
  const out = [pid];
  let children = "";
  try {
    children = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)])
      .toString();
  } catch {
    // ps exits 1 when there are no children.
  }
  for (const c of children.split(/\s+/).filter(Boolean)) {
    out.push(...processTree(Number(c)));
  }
  return out;
}

function limit(pids: number[], value: string): void {
  for (const pid of pids) {
    // The soft limit only: raising a lowered hard limit again needs a
    // capability a container may not grant; for the same reason another
    // user's process (the Postgres server) is limited as that user.
    const command = ["prlimit", "--pid", String(pid), `--fsize=${value}:`];
    try {
      const uid = statSync(`/proc/${pid}`).uid;
      if (uid !== process.getuid?.()) {
        const user = execFileSync("id", ["-nu", String(uid)]).toString().trim();
        command.unshift("runuser", "-u", user, "--");
      }
      execFileSync(command[0], command.slice(1));
    } catch (e) {
      // A process that exited meanwhile has no limit to change.
      if (processAlive(pid)) throw e;
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The disk full_disk.sh prepared (fails when run without it). */
export function theDisk(): Disk {
  const dir = process.env.KVQ_FULL_DISK_DIR ?? "";
  const mode = process.env.KVQ_FULL_DISK_MODE;
  if (!dir || (mode !== "tmpfs" && mode !== "fsize")) {
    console.error(
      "run the full-disk tests with tests-js/faults/full_disk.sh (it mounts the disk)",
    );
    process.exit(2);
  }
  const filler = join(dir, "filler");
  let limited: () => number[] = () => [];
  const available = () => {
    const s = statfsSync(dir);
    return Number(s.bavail) * Number(s.bsize);
  };
  return {
    dir,
    mode,
    available,
    fill({ free, fsize, pids }) {
      if (mode === "tmpfs") {
        const size = Math.max(0, available() - free);
        // In pieces: one Buffer of tens of MB is wasteful for nothing.
        const chunk = Buffer.alloc(1 << 20);
        const parts: Buffer[] = [];
        for (let left = size; left > 0; left -= chunk.length) {
          parts.push(left >= chunk.length ? chunk : chunk.subarray(0, left));
        }
        writeFileSync(filler, Buffer.concat(parts));
        step(`filled the disk: ${(available() / 1024).toFixed(0)} KiB left`);
      } else {
        limited = pids;
        const now = pids();
        limit(now, String(fsize));
        step(`limited the files of pids ${now.join(",")} to ${fsize} bytes`);
      }
    },
    topUp() {
      if (mode !== "tmpfs") return;
      const fd = openSync(filler, "a");
      const page = Buffer.alloc(4096);
      try {
        for (;;) writeSync(fd, page);
      } catch (e) {
        if ((e as { code?: string }).code !== "ENOSPC") throw e;
      } finally {
        closeSync(fd);
      }
      step(`topped up the filler: ${available()} bytes left`);
    },
    free() {
      if (mode === "tmpfs") {
        rmSync(filler, { force: true });
        step(`freed the disk: ${(available() / 1024).toFixed(0)} KiB free`);
      } else {
        limit(limited(), "unlimited");
        step("lifted the file-size limit");
      }
    },
  };
}

/** "TypeError [KVQ_SQLITE]: message": what a user sees, for the log. */
export function shown(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const code = (e as { code?: unknown }).code;
  return `${e.constructor.name}${code ? ` [${code}]` : ""}: ${e.message}`;
}

// deno-lint-ignore no-explicit-any
type AnyKv = any;

/**
 * What a full-disk test wrote and enqueued and what came of it, and the
 * checks every backend's test makes of that: the keys ["k", i] whose set
 * resolved (`stored`) or rejected (`refused`), the messages { id } whose
 * enqueue resolved or rejected, the ids the listener saw.
 */
export class Ledger {
  stored = new Set<number>();
  refused = new Set<number>();
  enqueued = new Set<number>();
  refusedMessages = new Set<number>();
  delivered = new Set<number>();
  /** Whether the listener's promise settled (it should not, until close). */
  listenerEnded = false;

  /** The size of each value, to fill a disk quickly. */
  readonly valueBytes: number;

  constructor(valueBytes: number) {
    this.valueBytes = valueBytes;
  }

  /** The value written under ["k", i]. */
  value(i: number): string {
    return `${i}:`.padEnd(this.valueBytes, "v");
  }

  /** Listens on `kv`, recording every message's id; returns the promise. */
  listen(kv: AnyKv): Promise<void> {
    const listening: Promise<void> = kv.listenQueue((m: { id: number }) => {
      this.delivered.add(m.id);
    });
    listening.then(
      () => this.listenerEnded = true,
      (e: unknown) => {
        this.listenerEnded = true;
        step(`the listener rejected: ${shown(e)}`);
      },
    );
    return listening;
  }

  /**
   * On a disk with room: sets ["k", i] and enqueues { id: i } for i below
   * `n`, then waits up to `ms` for every message. Returns `n`, the next id.
   */
  async fillWithRoom(kv: AnyKv, n: number, ms: number): Promise<number> {
    for (let i = 0; i < n; i++) {
      await kv.set(["k", i], this.value(i));
      this.stored.add(i);
      await kv.enqueue({ id: i });
      this.enqueued.add(i);
    }
    await until(
      () => this.delivered.size === n,
      ms,
      `the first ${n} messages delivered`,
    );
    return n;
  }

  /**
   * Reads every key back through `store`: each write that resolved is
   * there with its value, none that rejected is.
   */
  async readBack(store: AnyKv, where: string): Promise<void> {
    const ids = [...this.stored, ...this.refused].sort((a, b) => a - b);
    const missing: number[] = [];
    const phantom: number[] = [];
    for (let at = 0; at < ids.length; at += 10) {
      const chunk = ids.slice(at, at + 10);
      const got = await store.getMany(chunk.map((i) => ["k", i]));
      chunk.forEach((i, n) => {
        const v = got[n].value;
        if (this.stored.has(i) && v !== this.value(i)) missing.push(i);
        if (this.refused.has(i) && v !== null) phantom.push(i);
      });
    }
    check(
      missing.length === 0,
      `${where}: all ${this.stored.size} writes that resolved read back (missing: ${
        missing.slice(0, 10)
      })`,
    );
    check(
      phantom.length === 0,
      `${where}: none of the ${this.refused.size} rejected writes is there (present: ${
        phantom.slice(0, 10)
      })`,
    );
  }
}
