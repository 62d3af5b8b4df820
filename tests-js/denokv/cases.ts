/**
 * Cases only a KV Connect database has: the token, the server's own
 * limits and messages, other clients' writes reaching `watch()`, and the
 * queue (made of keys) over the protocol, which has none.
 *
 * @module
 */

import process from "node:process";
import {
  assert,
  assertEquals,
  assertRejects,
  nextChunk,
  sleepUntil,
  withKv,
} from "../harness/helpers.ts";
import type { Case, KvEntryLike } from "../harness/types.ts";

function url(): string {
  return process.env.KVQ_DENOKV_URL ?? "";
}

const kvqOnly = (t: { kvqExtensions: boolean }) =>
  t.kvqExtensions ? undefined : "a kvq option";

/** Cases for kvq (and, where they apply, real Deno) over KV Connect. */
export const cases: Case[] = [
  {
    name:
      "openKv(url): a wrong token rejects with Deno's TypeError, without the token",
    skip: kvqOnly,
    run: async (t) => {
      const secret = "wrong-token-7f3a";
      let message = "";
      await assertRejects(
        () =>
          t.openKv(url(), { accessToken: secret }).catch((e) => {
            message = String((e as Error).message);
            throw e;
          }),
        TypeError,
        `Could not open Deno KV database: the metadata endpoint at '${url()}' responded with status 401 Unauthorized: Invalid access token.`,
      );
      assert(!message.includes(secret), "the token is not in the message");
    },
  },
  {
    name: "openKv(url): an accessToken that is not a string throws TypeError",
    skip: kvqOnly,
    run: (t) =>
      assertRejects(
        () => t.openKv(url(), { accessToken: 5 }),
        TypeError,
        "openKv: accessToken must be a non-empty string",
      ),
  },
  {
    name:
      "atomic: more than 10 checks fail with the server's message, as on Deno",
    run: (t) =>
      withKv(t, async (kv) => {
        const op = kv.atomic();
        for (let i = 0; i < 11; i++) {
          op.check({ key: ["c", i], versionstamp: null });
        }
        op.set(["c"], 1);
        await assertRejects(
          () => op.commit(),
          Error,
          `KV Connect failed to call '${url()}v2/atomic_write' (status=400 Bad Request): Too many checks included in atomic write.`,
        );
      }),
  },
  {
    name:
      "watch: another client's write reaches the watcher through the server",
    run: (t) =>
      withKv(t, async (watcher) => {
        const writer = await t.openKv(url());
        try {
          const stream = watcher.watch([["w", "x"]]) as ReadableStream<
            KvEntryLike[]
          >;
          const reader = stream.getReader();
          const first = await nextChunk(reader);
          assertEquals(first[0].value, null);
          await writer.set(["w", "x"], "from the other client");
          const next = await nextChunk(reader, 5000);
          assertEquals(next[0].value, "from the other client");
          await reader.cancel();
        } finally {
          writer.close();
        }
      }),
  },
  {
    name:
      "enqueue: a message enqueued by one client is handled by another's listener",
    skip: kvqOnly,
    run: (t) =>
      withKv(t, async (listener) => {
        const sender = await t.openKv(url());
        const got: unknown[] = [];
        try {
          const done = listener.listenQueue((m: unknown) => {
            got.push(m);
          });
          await sender.enqueue({ hello: "over KV Connect" });
          await sleepUntil(() => got.length === 1, 10000, "delivery");
          assertEquals(got[0], { hello: "over KV Connect" });
          listener.close();
          await done;
        } finally {
          sender.close();
        }
      }),
  },
];
