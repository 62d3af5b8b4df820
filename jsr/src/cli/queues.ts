/**
 * `kvq queues …`: the management operations of named queues
 * (jsr/src/queues/admin.ts), printed for a person to read.
 *
 * @module
 */

import { listQueues, type QueueStats } from "../queues/admin.ts";
import { NamedQueue } from "../queues/queue.ts";
import type { CliCommand, CliContext } from "./main.ts";
import { UsageError } from "./main.ts";

const HELP = `usage: kvq queues <operation> <database> [queue] [options]

<database> is what openKv takes: a file path, or a URL (postgres://…, or
a KV Connect http(s)://… URL, its token from DENO_KV_ACCESS_TOKEN or
--token).

operations:
  list    <db>                      every named queue with its counts by state
  stats   <db> <queue> [--interval=MS] [--watch[=N]]
                                    counts, totals, rates per second and lag,
                                    measured over MS (default 1000); with
                                    --watch, again every MS until Ctrl-C (or
                                    N times)
  peek    <db> <queue> [--limit=N]  the next messages to be delivered (10)
  dead    <db> <queue> [--limit=N]  dead letters with attempts and last
                                    error (100)
  cancel  <db> <queue> <id>...      delete pending messages by id
  redrive <db> <queue> <id>... | --all
                                    enqueue dead letters again
  purge   <db> <queue> [--dead] --yes
                                    delete every pending message (and with
                                    --dead, every dead letter)

options of every operation:
  --token=T                         KV Connect access token`;

/** The flags each operation takes (besides --token and --help). */
const FLAGS: Record<string, string[]> = {
  list: [],
  stats: ["interval", "watch"],
  peek: ["limit"],
  dead: ["limit"],
  cancel: [],
  redrive: ["all"],
  purge: ["dead", "yes"],
};

interface Parsed {
  words: string[];
  flags: Map<string, string | true>;
}

function parse(args: string[]): Parsed {
  const words: string[] = [];
  const flags = new Map<string, string | true>();
  for (const a of args) {
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      if (eq < 0) flags.set(a.slice(2), true);
      else flags.set(a.slice(2, eq), a.slice(eq + 1));
    } else {
      words.push(a);
    }
  }
  return { words, flags };
}

/** Refuses a flag operation `op` does not take, naming it. */
function checkFlags(p: Parsed, op: string): void {
  const known = FLAGS[op] ?? [];
  for (const name of p.flags.keys()) {
    if (name !== "token" && name !== "help" && !known.includes(name)) {
      throw new UsageError(
        `${op} takes no option --${name}${
          known.length > 0
            ? ` (it takes ${known.map((k) => `--${k}`).join(", ")})`
            : ""
        }`,
      );
    }
  }
  const token = p.flags.get("token");
  if (token === true || token === "") {
    throw new UsageError("--token needs a value: --token=T");
  }
  // Values too are checked before the store is opened: a mistyped one is
  // reported as such, not as a database that cannot be opened.
  intFlag(p, "interval", 0);
  intFlag(p, "limit", 0);
  const watch = p.flags.get("watch");
  if (typeof watch === "string" && intFlag(p, "watch", 1) < 1) {
    throw new UsageError(`--watch must be at least 1: received ${watch}`);
  }
  if (watch !== undefined && intFlag(p, "interval", 1000) < 1) {
    throw new UsageError("--watch needs an --interval of at least 1 ms");
  }
}

function intFlag(p: Parsed, name: string, fallback: number): number {
  const v = p.flags.get(name);
  if (v === undefined) return fallback;
  if (v === true || !/^\d+$/.test(v)) {
    throw new UsageError(`--${name} must be a whole number: received ${v}`);
  }
  return Number(v);
}

/** A value as one short line. */
export function brief(value: unknown, width = 60): string {
  let text: string;
  try {
    text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(
      value,
      (_k, v) =>
        typeof v === "bigint"
          ? `${v}n`
          : v instanceof Uint8Array
          ? `<${v.length} bytes>`
          : v,
    ) ?? String(value);
  } catch {
    text = String(value);
  }
  return clip(text, width);
}

/** Text cut to `width` characters. */
function clip(text: string, width: number): string {
  return text.length > width ? text.slice(0, width - 1) + "…" : text;
}

/** Rows as aligned columns under a header. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => r[i].length))
  );
  const line = (r: string[]) =>
    r.map((c, i) => i === r.length - 1 ? c : c.padEnd(widths[i])).join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function ago(ms: number): string {
  const s = Math.round(ms / 1000);
  if (Math.abs(ms) < 1000) return `${Math.round(ms)} ms`;
  if (Math.abs(s) < 120) return `${s} s`;
  if (Math.abs(s) < 7200) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

function when(d: Date, now: number): string {
  const diff = d.getTime() - now;
  return diff > 0 ? `in ${ago(diff)}` : `${ago(-diff)} ago`;
}

async function withDb(
  ctx: Required<CliContext>,
  p: Parsed,
  path: string | undefined,
  fn: (kv: Awaited<ReturnType<CliContext["openKv"]>>) => Promise<number>,
): Promise<number> {
  if (path === undefined) throw new UsageError("missing <database>\n\n" + HELP);
  if (!path.includes("://") && path !== ":memory:" && !ctx.exists(path)) {
    throw new UsageError(`no database at ${path}`);
  }
  const token = p.flags.get("token");
  const kv = await ctx.openKv(
    path,
    typeof token === "string" ? { accessToken: token } : undefined,
  );
  try {
    return await fn(kv);
  } finally {
    kv.close();
  }
}

/** One `stats` report; with `stamped`, headed by the time it ends. */
function printStats(
  out: (line: string) => void,
  name: string,
  s: QueueStats,
  stamped: boolean,
): void {
  const c = s.counts;
  out(
    stamped ? `queue ${name} at ${new Date().toISOString()}` : `queue ${name}`,
  );
  out(
    `  messages  ready ${c.ready}, delayed ${c.delayed}, waiting ${c.waiting}, running ${c.running}, dead ${c.dead}`,
  );
  out(
    `  totals    enqueued ${s.totals.enqueued}, acked ${s.totals.acked}, retried ${s.totals.retried}, dead ${s.totals.dead}`,
  );
  const r = (x: number) => x.toFixed(1);
  out(
    `  rates/s   enqueued ${r(s.rates.enqueued)}, acked ${
      r(s.rates.acked)
    }, retried ${r(s.rates.retried)}, dead ${
      r(s.rates.dead)
    } (over ${s.intervalMs} ms)`,
  );
  out(
    `  lag       ${
      s.lagMs > 0 ? `oldest ready message due ${ago(s.lagMs)} ago` : "none"
    }`,
  );
}

function needQueue(name: string | undefined): string {
  if (name === undefined) throw new UsageError("missing <queue>\n\n" + HELP);
  return name;
}

/** Runs `kvq queues <operation> …`. */
export const queuesCommand: CliCommand = async (args, ctx) => {
  const p = parse(args);
  const [op, db, name, ...ids] = p.words;
  if (op === undefined || p.flags.has("help") || op === "help") {
    (op === undefined && !p.flags.has("help") ? ctx.err : ctx.out)(HELP);
    return op === undefined && !p.flags.has("help") ? 2 : 0;
  }
  if (!Object.hasOwn(FLAGS, op)) {
    throw new UsageError(
      `unknown operation ${JSON.stringify(op)}\n\n${HELP}`,
    );
  }
  checkFlags(p, op);
  const out = ctx.out;
  const now = Date.now();
  switch (op) {
    case "list":
      return await withDb(ctx, p, db, async (kv) => {
        const names = await listQueues(kv);
        if (names.length === 0) {
          out("no named queues");
          return 0;
        }
        const rows: string[][] = [];
        for (const n of names) {
          const c = await new NamedQueue(kv, n).counts();
          rows.push([
            n,
            String(c.ready),
            String(c.delayed),
            String(c.waiting),
            String(c.running),
            String(c.dead),
          ]);
        }
        for (
          const l of table(
            ["QUEUE", "READY", "DELAYED", "WAITING", "RUNNING", "DEAD"],
            rows,
          )
        ) out(l);
        return 0;
      });
    case "stats":
      return await withDb(ctx, p, db, async (kv) => {
        const q = new NamedQueue(kv, needQueue(name));
        const intervalMs = intFlag(p, "interval", 1000);
        const watch = p.flags.get("watch");
        // --watch alone: until interrupted; --watch=N: N reports.
        const reports = watch === undefined
          ? 1
          : watch === true
          ? Infinity
          : intFlag(p, "watch", 1);
        for (let n = 0; n < reports; n++) {
          const s = await q.stats({ intervalMs });
          if (n > 0) out("");
          printStats(out, q.name, s, watch !== undefined);
        }
        return 0;
      });
    case "peek":
      return await withDb(ctx, p, db, async (kv) => {
        const q = new NamedQueue(kv, needQueue(name));
        const messages = await q.peek({ limit: intFlag(p, "limit", 10) });
        if (messages.length === 0) {
          out(`queue ${q.name}: no pending messages`);
          return 0;
        }
        for (
          const l of table(
            ["ID", "STATE", "DUE", "ATTEMPTS", "GROUP", "VALUE"],
            messages.map((m) => [
              m.id,
              m.state,
              when(m.dueAt, now),
              String(m.attempts),
              m.group === null ? "-" : `${m.group}#${m.seq}`,
              brief(m.value),
            ]),
          )
        ) out(l);
        return 0;
      });
    case "dead":
      return await withDb(ctx, p, db, async (kv) => {
        const q = new NamedQueue(kv, needQueue(name));
        const dead = await q.deadLetters({ limit: intFlag(p, "limit", 100) });
        if (dead.length === 0) {
          out(`queue ${q.name}: no dead letters`);
          return 0;
        }
        for (
          const l of table(
            ["ID", "FAILED", "ATTEMPTS", "GROUP", "LAST ERROR", "VALUE"],
            dead.map((d) => [
              d.id,
              when(d.failedAt, now),
              String(d.attempts),
              d.group === null ? "-" : `${d.group}#${d.seq}`,
              clip(d.lastError.replace(/\s+/g, " "), 50),
              brief(d.value),
            ]),
          )
        ) out(l);
        return 0;
      });
    case "cancel":
      return await withDb(ctx, p, db, async (kv) => {
        const q = new NamedQueue(kv, needQueue(name));
        if (ids.length === 0) throw new UsageError("missing <id>");
        let failed = 0;
        for (const id of ids) {
          const ok = await q.cancel(id);
          if (!ok) failed++;
          out(
            ok
              ? `cancelled ${id}`
              : `not cancelled ${id}: no pending message with this id (running, done or unknown)`,
          );
        }
        return failed > 0 ? 1 : 0;
      });
    case "redrive":
      return await withDb(ctx, p, db, async (kv) => {
        const q = new NamedQueue(kv, needQueue(name));
        const all = p.flags.has("all");
        if (!all && ids.length === 0) {
          throw new UsageError("give the ids to redrive, or --all");
        }
        const n = await q.redrive(all ? undefined : ids);
        out(`redrove ${n} dead letter${n === 1 ? "" : "s"} of ${q.name}`);
        return 0;
      });
    case "purge":
      return await withDb(ctx, p, db, async (kv) => {
        const q = new NamedQueue(kv, needQueue(name));
        if (!p.flags.has("yes")) {
          throw new UsageError(
            `purge deletes every pending message of ${q.name}: add --yes`,
          );
        }
        const n = await q.purge({ dead: p.flags.has("dead") });
        out(`purged ${n} message${n === 1 ? "" : "s"} of ${q.name}`);
        return 0;
      });
    default:
      throw new UsageError(
        `unknown operation ${JSON.stringify(op)}\n\n${HELP}`,
      );
  }
};
