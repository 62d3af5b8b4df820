/**
 * Real Deno.openKv and kvq (jsr/mod.ts, FFI) in one Deno process. On
 * different files each keeps its own values and queue. On the same file a
 * value written by each is read by the other, and a message enqueued by
 * each is delivered to the other's listener. Deno's listener is a handle
 * opened after kvq's enqueue has committed, because Deno notices another
 * writer's messages only when a handle opens or by its 60 s poll.
 *
 * Run: deno run -A --unstable-kv tests-js/interop/same_process_test.ts
 *
 * @module
 */

import { join } from "node:path";
import { Checks, describe } from "./checks.ts";
import { missingBuilds, tempDir } from "./processes.ts";
import { integrity } from "./raw_rows.ts";
import { payload } from "./queue_scenario.ts";
import { difference } from "../v8/equal.ts";
import { firstMessage, sleep } from "../harness/helpers.ts";
import type { KvLike, KvU64Class } from "../harness/types.ts";

const DELIVERY_TIMEOUT_MS = 5_000;

const checks = new Checks();

const NOTHING = Symbol("nothing");

/** The first message the listener `listen` starts gets, or an Error in time. */
async function delivered(
  listen: (handler: (message: unknown) => void) => Promise<void>,
): Promise<unknown> {
  const message = await firstMessage(listen, DELIVERY_TIMEOUT_MS, NOTHING);
  if (message === NOTHING) {
    throw new Error(`nothing in ${DELIVERY_TIMEOUT_MS} ms`);
  }
  return message;
}

/** Sets `["k"]` to `name` and checks it reads back; then one message. */
async function ownFile(kv: KvLike, name: string): Promise<void> {
  await kv.set(["k"], name);
  const got = (await kv.get(["k"])).value;
  if (got !== name) throw new Error(`${name} reads ${describe(got)}`);
  const message = delivered((h) => kv.listenQueue(h));
  await kv.enqueue({ to: name });
  const d = difference(await message, { to: name });
  if (d !== null) throw new Error(`${name}'s queue: ${d}`);
}

async function main(dir: string): Promise<void> {
  const mod = await import(new URL("../../jsr/mod.ts", import.meta.url).href);
  const KvU64 = mod.KvU64 as KvU64Class;

  await checks.run(
    "on different files each keeps its own values and queue",
    async () => {
      const deno = await Deno.openKv(join(dir, "deno.sqlite3"));
      const kvq = await mod.openKv(join(dir, "kvq.sqlite3")) as KvLike;
      try {
        await ownFile(deno as unknown as KvLike, "deno");
        await ownFile(kvq, "kvq");
        const again = (await deno.get(["k"])).value;
        if (again !== "deno") {
          throw new Error(`Deno's file now reads ${describe(again)}`);
        }
      } finally {
        kvq.close();
        deno.close();
      }
    },
  );

  const file = join(dir, "same.sqlite3");
  const deno = await Deno.openKv(file) as unknown as KvLike;
  const kvq = await mod.openKv(file) as KvLike;

  await checks.run("a value kvq wrote is read by Deno", async () => {
    const { versionstamp } = await kvq.set(["from", "kvq"], payload("kvq"));
    const got = await deno.get(["from", "kvq"]);
    const d = difference(got.value, payload("kvq"));
    if (d !== null) throw new Error(d);
    if (got.versionstamp !== versionstamp) {
      throw new Error(
        `versionstamp ${got.versionstamp}, kvq said ${versionstamp}`,
      );
    }
  });
  await checks.run("a value Deno wrote is read by kvq", async () => {
    const { versionstamp } = await deno.set(["from", "deno"], payload("deno"));
    const got = await kvq.get(["from", "deno"]);
    const d = difference(got.value, payload("deno"));
    if (d !== null) throw new Error(d);
    if (got.versionstamp !== versionstamp) {
      throw new Error(
        `versionstamp ${got.versionstamp}, Deno said ${versionstamp}`,
      );
    }
  });
  await checks.run("sums on one KvU64 from both sides add up", async () => {
    await deno.set(["n"], new Deno.KvU64(1n));
    await kvq.atomic().sum(["n"], 2n).commit();
    await deno.atomic().sum(["n"], 4n).commit();
    const a = (await deno.get(["n"])).value as { value: bigint };
    const b = (await kvq.get(["n"])).value;
    if (a.value !== 7n) throw new Error(`Deno reads ${a.value}`);
    if (!(b instanceof KvU64) || b.value !== 7n) {
      throw new Error(`kvq reads ${describe(b)}`);
    }
  });

  await checks.run(
    "a message kvq enqueued reaches Deno's listener",
    async () => {
      const res = await kvq.enqueue(payload("kvq message"));
      if (!res.ok) throw new Error("enqueue did not commit");
      // A Deno handle looks for ready messages when it opens; one opened
      // earlier would wait for its 60 s poll.
      const listener = await Deno.openKv(file) as unknown as KvLike;
      try {
        const d = difference(
          await delivered((h) => listener.listenQueue(h)),
          payload("kvq message"),
        );
        if (d !== null) throw new Error(d);
      } finally {
        listener.close();
      }
    },
  );

  // Named queues: kvq keeps them in its engine's tables on a file, Deno's
  // own Deno.openKv only as keys. A queue stays where it first was.
  await checks.run(
    "a named queue kvq keeps in its engine refuses Deno's keys-only handle, clearly",
    async () => {
      const mine = mod.queue(kvq, "engine-kept");
      await mine.enqueue({ n: 1 });
      if (await mine.storedIn() !== "engine") throw new Error("not in engine");
      const theirs = mod.queue(deno, "engine-kept");
      const error = await theirs.enqueue({ n: 2 }).then(
        () => null,
        (e: unknown) => e,
      );
      const want =
        "queue \"engine-kept\" is kept in kvq's engine tables of this store: open the store with kvq's openKv to use it";
      if (!(error instanceof Error) || error.message !== want) {
        throw new Error(`Deno's handle: ${describe(error)}`);
      }
      if ((await mine.counts()).ready !== 1) throw new Error("lost a message");
    },
  );
  await checks.run(
    "a named queue Deno filled as keys is used as keys by kvq, and drained",
    async () => {
      const theirs = mod.queue(deno, "keys-kept");
      await theirs.enqueue("from deno", { group: "g" });
      const mine = mod.queue(kvq, "keys-kept");
      if (await mine.storedIn() !== "keys") throw new Error("not as keys");
      const stop = new AbortController();
      const got = await firstMessage(
        (h) => mine.listen(h, { signal: stop.signal }),
        DELIVERY_TIMEOUT_MS,
        NOTHING,
      );
      stop.abort();
      mine.close();
      if (got !== "from deno") throw new Error(`kvq got ${describe(got)}`);
    },
  );

  // kvq's listener runs last: a listener stopped by its signal may still
  // hold a message it claimed late, for the moment it takes to give it
  // back, and a Deno handle opened in that moment would not see it.
  // The listener is idle when Deno enqueues: only the file's data version
  // (another SQLite library's commit in this same process) can wake it.
  await checks.run(
    "a message Deno enqueued wakes kvq's idle listener",
    async () => {
      const stop = new AbortController();
      const got = delivered((h) => kvq.listenQueue(h, { signal: stop.signal }));
      await sleep(100);
      await deno.enqueue(payload("deno message"));
      try {
        const d = difference(await got, payload("deno message"));
        if (d !== null) throw new Error(d);
      } finally {
        stop.abort();
      }
    },
  );
  kvq.close();
  deno.close();
  // Two SQLite libraries share this process's file locks: check the file.
  checks.check(
    "the file is sound after both closed",
    integrity(file) === "ok",
    integrity(file),
  );
}

const missing = missingBuilds(["deno"]);
const temp = tempDir("kvq-interop-same-");
if (missing.length > 0) {
  checks.check("kvq is built", false, `missing ${missing.join(", ")}`);
} else {
  try {
    await main(temp.dir);
  } catch (e) {
    console.error(e);
    checks.check("same-process run", false, describe(e));
  }
}
temp.dispose();
checks.finish();
