/**
 * `kvq copy <from> <to>`: moves a store's data between a SQLite file, a
 * Postgres URL and a KV Connect URL (a denokv server, Deno Deploy's KV).
 * The phases live in files of their own: copy_entries.ts (every entry,
 * with its remaining expiry where the source can tell it), copy_queue.ts
 * (the source's own queue messages not yet handled), copy_checkpoint.ts
 * (resuming after an interruption), copy_verify.ts (counts, checksums and
 * what differs).
 *
 * @module
 */

import { brief } from "./queues.ts";
import type { KvKey } from "../types.ts";
import {
  type Checkpoint,
  checkpointKey,
  fresh,
  readCheckpoint,
} from "./copy_checkpoint.ts";
import { type BatchLimits, copyEntries } from "./copy_entries.ts";
import { copyQueue } from "./copy_queue.ts";
import { engineBacklog } from "../queues/native.ts";
import {
  type CopyStore,
  shown,
  type StoreKind,
  storeKind,
} from "./copy_store.ts";
import { verify } from "./copy_verify.ts";
import type { CliCommand, CliContext } from "./main.ts";
import { UsageError } from "./main.ts";

const HELP = `usage: kvq copy <from> <to> [options]

<from> and <to> are what openKv takes: a SQLite file path, a Postgres URL
(postgres://…), or a KV Connect URL (http(s)://…, token from
DENO_KV_ACCESS_TOKEN or --token). A missing target file is created.

Copies every entry (with its remaining expiry, where the source can tell
it: a file or Postgres; a KV Connect read does not return expiries), then
the messages of the source's own queue not yet handled (a file's or
Postgres's; onto a KV Connect target they go into the queue made of keys),
then verifies. Interrupted, the same command resumes where it stopped: the
progress is kept in the target under ["__kvq", "copy", …].

options:
  --token=T         KV Connect access token for both sides
  --from-token=T    … for the source only
  --to-token=T      … for the target only
  --batch=N         entries per atomic write (default 100, at most 500)
  --restart         copy again from the start, even after a finished copy
  --verify          only compare the two stores; copy nothing
  --no-verify       copy without the verify pass
  --progress=MS     how often to print a progress line (default 1000)`;

interface Options {
  from: string;
  to: string;
  fromToken?: string;
  toToken?: string;
  batch: number;
  restart: boolean;
  verifyOnly: boolean;
  verify: boolean;
  progressMs: number;
}

function parse(args: string[]): Options {
  const words: string[] = [];
  const flags = new Map<string, string | true>();
  for (const a of args) {
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq < 0) flags.set(a.slice(2), true);
      else flags.set(a.slice(2, eq), a.slice(eq + 1));
    } else words.push(a);
  }
  const known = [
    "token",
    "from-token",
    "to-token",
    "batch",
    "restart",
    "verify",
    "no-verify",
    "progress",
  ];
  for (const name of flags.keys()) {
    if (!known.includes(name)) throw new UsageError(`unknown option --${name}`);
  }
  if (words.length !== 2) {
    throw new UsageError(`expected <from> and <to>\n\n${HELP}`);
  }
  const text = (name: string): string | undefined => {
    const v = flags.get(name);
    if (v === true) throw new UsageError(`--${name} needs a value`);
    return v;
  };
  const int = (name: string, fallback: number, min: number, max: number) => {
    const v = text(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new UsageError(
        `--${name} must be a whole number from ${min} to ${max}`,
      );
    }
    return n;
  };
  return {
    from: words[0],
    to: words[1],
    fromToken: text("from-token") ?? text("token"),
    toToken: text("to-token") ?? text("token"),
    batch: int("batch", 100, 1, 500),
    restart: flags.has("restart"),
    verifyOnly: flags.has("verify"),
    verify: !flags.has("no-verify"),
    progressMs: int("progress", 1000, 0, 3_600_000),
  };
}

const KIND: Record<StoreKind, string> = {
  "file": "SQLite file",
  "postgres": "Postgres",
  "kv-connect": "KV Connect",
};

const count = (n: number) => n.toLocaleString("en-US");

function keyText(key: KvKey | null): string {
  return key === null ? "-" : brief(key, 50);
}

async function open(
  ctx: Required<CliContext>,
  path: string,
  token: string | undefined,
  create: boolean,
): Promise<CopyStore> {
  if (storeKind(path) === "file" && !create && !ctx.exists(path)) {
    throw new UsageError(`no database at ${path}`);
  }
  const options = token === undefined ? undefined : { accessToken: token };
  return await ctx.openKv(path, options) as unknown as CopyStore;
}

/** Runs the verify pass and prints it; resolves whether both agree. */
async function verifyAndPrint(
  ctx: Required<CliContext>,
  from: CopyStore,
  to: CopyStore,
  queueInTarget: boolean,
): Promise<boolean> {
  const started = Date.now();
  const v = await verify(from, to, queueInTarget, (k) => brief(k, 60));
  const same = v.missing === 0 && v.extra === 0 && v.changed === 0;
  ctx.out(
    `verify: source ${
      count(v.source.count)
    } entries, checksum ${v.source.checksum}; ` +
      `target ${count(v.target.count)} entries, checksum ${v.target.checksum}` +
      (v.queueKeys > 0
        ? ` (and ${count(v.queueKeys)} key${
          v.queueKeys === 1 ? "" : "s"
        } of the queue made of keys)`
        : "") +
      ` (${Date.now() - started} ms)`,
  );
  if (same) {
    ctx.out("verify: the same keys and values on both sides");
  } else {
    ctx.out(
      `verify: DIFFERENT: ${count(v.missing)} missing in the target, ` +
        `${count(v.extra)} only in the target, ${
          count(v.changed)
        } with a different value`,
    );
    for (const line of v.examples) ctx.out(`  ${line}`);
  }
  return same;
}

/** Runs `kvq copy <from> <to> [options]`. */
export const copyCommand: CliCommand = async (args, ctx) => {
  if (args.includes("--help") || args.includes("-h")) {
    ctx.out(HELP);
    return 0;
  }
  const o = parse(args);
  if (o.from === o.to) throw new UsageError("<from> and <to> are the same");
  const fromKind = storeKind(o.from);
  const toKind = storeKind(o.to);
  const from = await open(ctx, o.from, o.fromToken, false);
  let to: CopyStore | undefined;
  try {
    // Named queues the engine keeps in tables are not entries: refuse
    // rather than copy the store without their messages.
    const backlog = await engineBacklog(from);
    if (backlog.length > 0) {
      throw new Error(
        `kvq copy does not move named queues kept in the engine's tables: ${
          backlog.map((b) => `"${b.name}" (${b.messages} messages)`).join(", ")
        }; drain or purge them first (kvq queues purge ${
          shown(o.from)
        } <name> --dead --yes)`,
      );
    }
    to = await open(ctx, o.to, o.toToken, true);
    const queueInTarget = toKind === "kv-connect" && fromKind !== "kv-connect";
    if (o.verifyOnly) {
      return await verifyAndPrint(ctx, from, to, queueInTarget) ? 0 : 1;
    }
    const key = checkpointKey(o.from);
    const found = await readCheckpoint(to, o.from);
    let cp: Checkpoint;
    if (found !== null && found.phase === "done" && !o.restart) {
      ctx.out(
        `already copied from ${shown(o.from)} (${
          count(found.entries)
        } entries, ` +
          `${count(found.messages)} queue messages); --restart copies again`,
      );
      if (!o.verify) return 0;
      return await verifyAndPrint(ctx, from, to, queueInTarget) ? 0 : 1;
    } else if (found !== null && !o.restart) {
      cp = found;
      ctx.out(
        `resuming the copy from ${shown(o.from)}: ${
          count(cp.entries)
        } entries ` +
          `copied, last key ${keyText(cp.lastKey)}` +
          (cp.phase === "queue"
            ? `, ${count(cp.messages)} queue messages`
            : ""),
      );
    } else {
      cp = fresh();
      ctx.out(
        `copying ${shown(o.from)} (${KIND[fromKind]}) to ${shown(o.to)} (${
          KIND[toKind]
        })`,
      );
    }
    if (fromKind === "kv-connect") {
      ctx.out(
        "expiry: a KV Connect read does not return an entry's expiry: " +
          "entries are copied without one",
      );
    }
    const limits: BatchLimits = { count: o.batch, bytes: 400_000 };
    const began = Date.now();
    const startEntries = cp.entries;
    let shownAt = 0;
    let shownCount = -1;
    const progress = (force = false) => {
      const now = Date.now();
      const total = cp.entries + cp.messages;
      if (total === shownCount || (!force && now - shownAt < o.progressMs)) {
        return;
      }
      shownAt = now;
      shownCount = total;
      const rate = Math.round(
        (cp.entries - startEntries) / Math.max(0.001, (now - began) / 1000),
      );
      ctx.out(
        `progress: ${count(cp.entries)} entries (${count(rate)}/s), ` +
          `${count(cp.messages)} queue messages, last key ${
            keyText(cp.lastKey)
          }`,
      );
    };
    let expiryKnown = fromKind !== "kv-connect";
    if (cp.phase === "entries") {
      expiryKnown = await copyEntries(from, to, cp, key, limits, progress);
      cp.phase = "queue";
      progress(true);
    }
    let queue = false;
    if (cp.phase === "queue") {
      queue = await copyQueue(from, to, cp, key, limits, progress);
      cp.phase = "done";
    }
    const last = to.atomic();
    last.set(key, cp);
    const done = await last.commit();
    if (!done.ok) throw new Error("the checkpoint was not written");
    ctx.out(
      `copied ${count(cp.entries)} entries` +
        (cp.expired > 0
          ? ` (${count(cp.expired)} already expired, skipped)`
          : "") +
        (expiryKnown
          ? ", each with its remaining expiry"
          : ", without expiries") +
        `; ${count(cp.messages)} queue message${cp.messages === 1 ? "" : "s"}` +
        (queue
          ? toKind === "kv-connect" ? " (into the queue made of keys)" : ""
          : " (the source has no queue of its own)") +
        ` in ${Date.now() - began} ms`,
    );
    if (!o.verify) return 0;
    return await verifyAndPrint(ctx, from, to, queueInTarget) ? 0 : 1;
  } finally {
    to?.close();
    from.close();
  }
};
