/**
 * openKv (spec 7.1): path validation and file errors.
 *
 * @module
 */

import {
  assertIs,
  assertRejects,
  closeQuietly,
  withKv,
} from "../harness/helpers.ts";
import type { Case } from "../harness/types.ts";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import process from "node:process";

/** Runs `fn` with `dir` as the working directory, then restores it. */
async function inDir<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(cwd);
  }
}

export const cases: Case[] = [
  {
    name: "openKv: an empty path rejects with TypeError",
    run: (t) =>
      assertRejects(() => t.openKv(""), TypeError, "Filename cannot be empty"),
  },
  {
    name:
      "openKv: a path starting with ':' other than :memory: rejects with TypeError",
    run: (t) =>
      assertRejects(
        () => t.openKv(":x"),
        TypeError,
        "Filename cannot start with ':' unless prefixed with './'",
      ),
  },
  {
    name: "openKv: :memory: opens a private database per call",
    run: async (t) => {
      const a = await t.openKv(":memory:");
      const b = await t.openKv(":memory:");
      try {
        await a.set(["k"], 1);
        assertIs((await b.get(["k"])).value, null);
        assertIs((await a.get(["k"])).value, 1);
      } finally {
        closeQuietly(a);
        closeQuietly(b);
      }
    },
  },
  {
    name:
      "openKv: a file in a missing directory rejects with unable to open database file",
    run: (t) => {
      const path = `${t.tempPath()}.d/missing/db.sqlite3`;
      return assertRejects(
        () => t.openKv(path),
        Error,
        `unable to open database file: ${path}`,
      );
    },
  },
  {
    name:
      "openKv: a file that is not SQLite rejects with file is not a database",
    run: (t) => {
      const path = t.tempPath();
      writeFileSync(path, "this is a text file, not a database\n".repeat(200));
      return assertRejects(
        () => t.openKv(path),
        Error,
        "file is not a database",
      );
    },
  },
  {
    name: "openKv: a directory rejects with unable to open database file",
    run: (t) => {
      const path = `${t.tempPath()}.dir`;
      mkdirSync(path);
      return assertRejects(
        () => t.openKv(path),
        Error,
        `unable to open database file: ${path}`,
      );
    },
  },
  {
    name:
      "openKv: a 'file:' string with a relative path opens a file in the working directory, not at the root",
    run: async (t) => {
      const path = t.tempPath();
      const dir = dirname(path);
      const name = basename(path);
      await inDir(dir, async () => {
        await withKv(t, (kv) => kv.set(["k"], "relative"), `file:${name}`);
      });
      assertIs(existsSync(`/${name}`), false, "a file at the root");
      // Deno reads the string as SQLite does (a URI: `name`) only when it
      // runs with every permission (-A); with --allow-read and
      // --allow-write it opens a file called `file:name`. kvq always reads
      // it as SQLite does.
      const opened = existsSync(path) ? path : join(dir, `file:${name}`);
      if (!t.isDenoNative) assertIs(opened, path, "the file opened");
      await withKv(t, async (kv) => {
        assertIs((await kv.get(["k"])).value, "relative");
      }, opened);
    },
  },
  {
    name:
      "kvq.openKv: a 'file:' string is read as SQLite reads a URI filename: escapes, query, authority",
    // Deno does so only with every permission (-A), see above.
    skip: (t) =>
      t.isDenoNative ? "depends on Deno's permission flags" : undefined,
    run: async (t) => {
      const path = t.tempPath();
      const dir = dirname(path);
      const name = basename(path);
      await inDir(dir, async () => {
        // Percent escapes decoded, the query and fragment not part of it.
        await withKv(
          t,
          (kv) => kv.set(["k"], "escaped"),
          `file:${name}%2Dx?cache=private#frag`,
        );
      });
      await withKv(t, async (kv) => {
        assertIs((await kv.get(["k"])).value, "escaped");
      }, join(dir, `${name}-x`));
      await withKv(t, (kv) => kv.set(["k"], 1), `file://${path}`);
      await withKv(t, (kv) => kv.set(["k"], 2), `file://localhost${path}`);
      await withKv(t, async (kv) => {
        assertIs((await kv.get(["k"])).value, 2);
      }, path);
      await assertRejects(
        () => t.openKv(`file://example.com${path}`),
        Error,
        "invalid uri authority: example.com",
      );
    },
  },
  {
    name: "openKv: two handles on one file see each other's writes",
    run: (t) => {
      const path = t.tempPath();
      return withKv(t, async (a) => {
        await withKv(t, async (b) => {
          await a.set(["k"], "from a");
          assertIs((await b.get(["k"])).value, "from a");
        }, path);
      }, path);
    },
  },
];
