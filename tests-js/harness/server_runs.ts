/**
 * What the runners of the conformance suite against a server (Postgres,
 * a denokv server) share: the server's URL from the environment its
 * script sets, kvq on whichever runtime runs the file, and the cases
 * about file paths, which have no server form.
 *
 * @module
 */

import process from "node:process";
import { importEntry, packageEntry, type TempDir } from "./platform.ts";
import { kvqTarget } from "./targets.ts";
import type { Case, Target } from "./types.ts";

/**
 * The server URL in `variable`, or exits saying which script sets it:
 * `serverUrl("KVQ_POSTGRES_URL", "run_postgres", "scripts/pg.sh")`.
 */
export function serverUrl(
  variable: string,
  runner: string,
  script: string,
): string {
  const url = process.env[variable] ?? "";
  if (url === "") {
    console.error(
      `${runner}: ${variable} is not set: run it under ${script}`,
    );
    process.exit(1);
  }
  return url;
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

/** The runtime kvq runs on here: deno-ffi, bun, node20, node24, ... */
export function kvqRuntime(): string {
  return g.Deno
    ? "deno-ffi"
    : g.Bun
    ? "bun"
    : `node${process.versions.node.split(".")[0]}`;
}

/**
 * kvq's target on this runtime, named `<runtime>-<server>`: the JSR
 * package on Deno (FFI), the npm package on Node and Bun (N-API).
 */
export async function kvqServerTarget(
  server: string,
  temp: TempDir,
): Promise<Target> {
  const entry = g.Deno
    ? await importEntry(packageEntry("jsr", "mod.ts"), "the JSR package")
    : await importEntry(packageEntry("npm", "index.js"), "the npm package");
  return kvqTarget(`${kvqRuntime()}-${server}`, entry, temp);
}

/** Cases whose subject is a file path: what they test has no server form. */
const FILE_CASES = [
  "openKv: an empty path",
  "openKv: a path starting with ':'",
  "openKv: :memory:",
  "openKv: a file",
  "openKv: a directory",
  "openKv: a 'file:'",
  "kvq.openKv: a 'file:'",
];

/** Whether `c` is about file paths (skipped against a server). */
export function isFileCase(c: Case): boolean {
  return FILE_CASES.some((prefix) => c.name.startsWith(prefix));
}
