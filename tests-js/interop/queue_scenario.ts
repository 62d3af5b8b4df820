/**
 * The queue messages queue_test.ts sends across runtimes, how a consumer
 * treats them, and what the outcome must be. Runtime-neutral: the same code
 * drives real Deno in the parent and kvq in a child.
 *
 * @module
 */

import { difference } from "../v8/equal.ts";
import { sleep } from "../harness/helpers.ts";
import type { KvLike } from "../harness/types.ts";

/** One message of the scenario. */
interface Message {
  /** Its name, carried in the payload. */
  kind: string;
  /** enqueue options, given as they are to either implementation. */
  options: Record<string, unknown>;
  /** How many deliveries it must get. */
  attempts: number;
  /** Whether the consumer's handler throws for it (every time). */
  fails: boolean;
  /** Where it must be dead-lettered in the end (none: nowhere). */
  dead: unknown[][];
}

/** The scenario: each message crosses with its own options. */
export const MESSAGES: Message[] = [
  { kind: "plain", options: {}, attempts: 1, fails: false, dead: [] },
  {
    kind: "delayed",
    options: { delay: 400 },
    attempts: 1,
    fails: false,
    dead: [],
  },
  {
    // Succeeds: its keysIfUndelivered must stay unwritten.
    kind: "delivered, not dead",
    options: { keysIfUndelivered: [["dead", "never"]] },
    attempts: 1,
    fails: false,
    dead: [],
  },
  {
    kind: "retried then dead",
    options: { backoffSchedule: [30, 30], keysIfUndelivered: [["dead", "r"]] },
    attempts: 3,
    fails: true,
    dead: [["dead", "r"]],
  },
  {
    kind: "no retry, dead at once",
    options: {
      backoffSchedule: [],
      keysIfUndelivered: [["dead", "a"], ["dead", "b", 1n, true]],
    },
    attempts: 1,
    fails: true,
    dead: [["dead", "a"], ["dead", "b", 1n, true]],
  },
];

const NEVER_WRITTEN = ["dead", "never"];

/** The payload of `kind`: rich enough to show the V8 bytes crossed intact. */
export function payload(kind: string): Record<string, unknown> {
  return {
    kind,
    text: "é中😀",
    negZero: -0,
    big: -(2n ** 70n),
    date: new Date(86_400_000),
    map: new Map<unknown, unknown>([[1, new Set(["x", 2n])]]),
    bytes: Uint8Array.of(1, 2, 3),
    floats: new Float64Array([0.5, NaN]),
    u64: { value: 7n },
  };
}

/** Enqueues the scenario; the last message goes through an atomic. */
export async function enqueueAll(kv: KvLike): Promise<number> {
  const start = Date.now();
  for (const m of MESSAGES.slice(0, -1)) {
    await kv.enqueue(payload(m.kind), m.options);
  }
  const last = MESSAGES[MESSAGES.length - 1];
  const res = await kv.atomic().check({ key: ["gate"], versionstamp: null })
    .enqueue(payload(last.kind), last.options).commit();
  if (!res.ok) throw new Error("atomic enqueue did not commit");
  return start;
}

/** What a consumer saw. */
export interface Report {
  /** Deliveries per kind, each its time and whether the payload was intact. */
  deliveries: Record<string, { at: number; intact: string | null }[]>;
  /** When the consumer stopped waiting, and why. */
  ended: "complete" | "timeout";
}

function complete(seen: Report["deliveries"]): boolean {
  return MESSAGES.every((m) => (seen[m.kind]?.length ?? 0) >= m.attempts);
}

/**
 * Listens on `kv` with a handler that fails where the scenario says, until
 * every message had its deliveries and every dead letter is there (plus a
 * short wait for stray redeliveries), or `timeoutMs`; then closes `kv`.
 */
export async function consume(kv: KvLike, timeoutMs: number): Promise<Report> {
  const deliveries: Report["deliveries"] = {};
  const listening = kv.listenQueue((msg: { kind: string }) => {
    const list = deliveries[msg.kind] ??= [];
    list.push({ at: Date.now(), intact: difference(msg, payload(msg.kind)) });
    if (MESSAGES.find((m) => m.kind === msg.kind)?.fails) {
      throw new Error(`planned failure of "${msg.kind}"`);
    }
  });
  const deadKeys = MESSAGES.flatMap((m) => m.dead);
  const deadline = Date.now() + timeoutMs;
  let ended: Report["ended"] = "timeout";
  while (Date.now() < deadline) {
    if (complete(deliveries)) {
      const letters = await Promise.all(deadKeys.map((k) => kv.get(k)));
      if (letters.every((e) => e.versionstamp !== null)) {
        ended = "complete";
        break;
      }
    }
    await sleep(25);
  }
  // Anything delivered more often than planned would show up by now.
  await sleep(ended === "complete" ? 300 : 0);
  kv.close();
  await listening;
  return { deliveries, ended };
}

/** The scenario's checks on a report: [name, null or what went wrong]. */
export function judge(
  report: Report,
  enqueuedAt: number,
): [string, string | null][] {
  const out: [string, string | null][] = [];
  out.push([
    "every message settled in time",
    report.ended === "complete" ? null : "timed out",
  ]);
  for (const m of MESSAGES) {
    const got = report.deliveries[m.kind] ?? [];
    out.push([
      `"${m.kind}" delivered ${m.attempts} time(s)`,
      got.length === m.attempts ? null : `delivered ${got.length} time(s)`,
    ]);
    const broken = got.find((d) => d.intact !== null);
    out.push([`"${m.kind}" payload intact`, broken ? broken.intact : null]);
  }
  const delayed = report.deliveries["delayed"]?.[0];
  out.push([
    "delay honoured (>= 400 ms after enqueue)",
    delayed === undefined || delayed.at - enqueuedAt >= 395
      ? null
      : `delivered after ${delayed.at - enqueuedAt} ms`,
  ]);
  const retried = report.deliveries["retried then dead"] ?? [];
  const gaps = retried.slice(1).map((d, i) => d.at - retried[i].at);
  out.push([
    "backoffSchedule [30, 30] spaced the retries",
    gaps.every((g) => g >= 25) ? null : `gaps ${gaps.join(", ")} ms`,
  ]);
  return out;
}

/** Checks the dead letters on `kv`: each holds its message's payload. */
export async function judgeDeadLetters(
  kv: KvLike,
): Promise<[string, string | null][]> {
  const out: [string, string | null][] = [];
  for (const m of MESSAGES) {
    for (const key of m.dead) {
      const e = await kv.get(key);
      out.push([
        `dead letter ${keyText(key)} holds "${m.kind}"`,
        e.versionstamp === null
          ? "missing"
          : difference(e.value, payload(m.kind)),
      ]);
    }
  }
  const never = await kv.get(NEVER_WRITTEN);
  out.push([
    `no dead letter ${keyText(NEVER_WRITTEN)} for a delivered message`,
    never.versionstamp === null ? null : "written",
  ]);
  return out;
}

function keyText(key: unknown[]): string {
  return `[${
    key.map((p) => typeof p === "bigint" ? `${p}n` : JSON.stringify(p)).join(
      ",",
    )
  }]`;
}
