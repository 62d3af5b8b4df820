/**
 * Cases only a Postgres store has: URL forms, schemas side by side, errors
 * that name where and never the password, and two handles on one URL
 * behaving as two processes would (delivery and watch across them).
 * tests-js/run_postgres.ts runs them after the shared suite.
 *
 * @module
 */

import type { Case, Target } from "../harness/types.ts";
import {
  assert,
  assertEquals,
  closeQuietly,
  nextChunk,
  orTimeout,
  withKv,
} from "../harness/helpers.ts";

/** The URL a case's fresh schema lives at, with `schema` replaced. */
function otherSchema(url: string, schema: string): string {
  return url.replace(/schema=[^&]*/, `schema=${schema}`);
}

/** What an opening failure says, or a failure of the case if it opened. */
async function openError(t: Target, url: string): Promise<Error> {
  try {
    const kv = await t.openKv(url);
    closeQuietly(kv);
  } catch (e) {
    assert(e instanceof Error, `not an Error: ${String(e)}`);
    return e;
  }
  throw new Error(`${url.replace(/:[^:@/]*@/, ":***@")} opened`);
}

export const cases: Case[] = [
  {
    name: "postgres: a URL object opens the same store as its string",
    async run(t) {
      const url = t.tempPath();
      await withKv(t, async (a) => {
        await a.set(["k"], "v");
        const b = await t.openKv(new URL(url));
        try {
          assertEquals((await b.get(["k"])).value, "v");
        } finally {
          closeQuietly(b);
        }
      }, url);
    },
  },
  {
    name: "postgres: two schemas in one database do not see each other",
    async run(t) {
      const url = t.tempPath();
      await withKv(t, async (a) => {
        await a.set(["k"], "in a");
        await withKv(t, async (b) => {
          assertEquals((await b.get(["k"])).value, null);
        }, otherSchema(url, `${url.split("schema=")[1]}_b`));
      }, url);
    },
  },
  {
    name: "postgres: a refused login names host and database, not the password",
    async run(t) {
      const url = t.tempPath();
      const bad = url.replace(/:[^:@/]*@/, ":wrong-secret-7@");
      const e = await openError(t, bad);
      assert(!e.message.includes("wrong-secret-7"), e.message);
      assert(e.message.includes("127.0.0.1"), e.message);
      assert(e.message.includes('database "kvq"'), e.message);
      assert(
        e.message.includes("password authentication failed"),
        e.message,
      );
      assertEquals((e as Error & { code?: string }).code, "KVQ_CANNOT_OPEN");
    },
  },
  {
    name: "postgres: a missing database and an unreachable host say so",
    async run(t) {
      const url = t.tempPath();
      const missing = url.replace(/\/kvq\?/, "/no_such_db?");
      const e1 = await openError(t, missing);
      assert(e1.message.includes("no_such_db"), e1.message);
      const nowhere = url.replace(/@[^/]*\//, "@127.0.0.1:1/");
      const e2 = await openError(t, nowhere);
      assert(e2.message.includes("127.0.0.1:1"), e2.message);
      for (const e of [e1, e2]) {
        const password = /:([^:@/]*)@/.exec(url)?.[1] ?? "";
        assert(!e.message.includes(password), e.message);
      }
    },
  },
  {
    name: "postgres: a bad schema option rejects with TypeError",
    async run(t) {
      const url = otherSchema(t.tempPath(), "no-dashes");
      const e = await openError(t, url);
      assert(e instanceof TypeError, `${e.name}: ${e.message}`);
      assert(e.message.includes("schema"), e.message);
    },
  },
  {
    name: "postgres: the schema and poolSize options win over the URL's",
    async run(t) {
      const url = t.tempPath();
      const schema = `${url.split("schema=")[1]}_opt`;
      const kv = await t.openKv(url, { schema, poolSize: 2 });
      try {
        await kv.set(["k"], "in the option's schema");
      } finally {
        closeQuietly(kv);
      }
      await withKv(t, async (same) => {
        assertEquals((await same.get(["k"])).value, "in the option's schema");
      }, otherSchema(url, schema));
      await withKv(t, async (other) => {
        assertEquals((await other.get(["k"])).value, null);
      }, url);
      for (const poolSize of [0, 65, 1.5]) {
        try {
          closeQuietly(await t.openKv(url, { poolSize }));
          throw new Error(`poolSize ${poolSize} opened`);
        } catch (e) {
          assert(e instanceof TypeError, String(e));
          assert((e as Error).message.includes("poolSize"), String(e));
        }
      }
    },
  },
  {
    name:
      "postgres: another handle's enqueue and write reach a listener and a watcher",
    async run(t) {
      const url = t.tempPath();
      await withKv(t, async (a) => {
        const b = await t.openKv(url);
        try {
          let got: (v: unknown) => void = () => {};
          const message = new Promise((resolve) => got = resolve);
          const listening = a.listenQueue((m: unknown) => got(m));
          const reader = a.watch([["w"]]).getReader();
          await nextChunk(reader);
          await b.enqueue("hello");
          await b.set(["w"], 1);
          assertEquals(await orTimeout(message, 2000, "delivery"), "hello");
          let seen = await nextChunk(reader, 2000);
          if (seen[0].value === null) seen = await nextChunk(reader, 2000);
          assertEquals(seen[0].value, 1);
          await reader.cancel();
          a.close();
          await listening;
        } finally {
          closeQuietly(b);
        }
      }, url);
    },
  },
];
