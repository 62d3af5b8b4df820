/**
 * Loads kvq's `openKv` from one of its packages, turning "not built yet" into
 * a NotAvailableError so the row is skipped with a note instead of failing.
 */
import { readFileSync } from "node:fs";
import { NotAvailableError } from "../lib/types.ts";
import { kvApiSystem, type OpenKv } from "./kv_api.ts";

/**
 * The ESM entry of the npm package in npm/, as its package.json declares it
 * (exports["."].import, itself a path or conditions whose `default` is
 * taken, then module, then main), as a URL.
 */
export function npmEntry(): string {
  const dir = new URL("../../npm/", import.meta.url);
  let pkg: {
    exports?: { ".": { import?: string | { default?: string } } };
    module?: string;
    main?: string;
  };
  try {
    pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8"));
  } catch {
    return new URL("index.js", dir).href;
  }
  const esm = pkg.exports?.["."]?.import;
  const entry = (typeof esm === "string" ? esm : esm?.default) ??
    pkg.module ?? pkg.main ?? "index.js";
  return new URL(entry, dir).href;
}

/**
 * Builds the kvq system whose `openKv` comes from module `specifier` (a
 * URL). `at` turns the run's database file path into what `openKv` is
 * given (a Postgres URL, for the Postgres rows); by default, the file.
 */
export function kvqSystem(
  specifier: string,
  build: string,
  at: (path: string) => string = (path) => path,
) {
  let loaded: Promise<OpenKv> | undefined;
  const load = () =>
    loaded ??= import(specifier).then(
      (mod: { openKv?: OpenKv }) => {
        if (typeof mod.openKv !== "function") {
          throw new NotAvailableError(`${specifier} has no openKv export`);
        }
        return mod.openKv;
      },
      (e: Error) => {
        throw new NotAvailableError(
          `kvq not built (${build}): ${e.message.split("\n")[0]}`,
        );
      },
    );
  return kvApiSystem(async (path) => (await load())(at(path)));
}
