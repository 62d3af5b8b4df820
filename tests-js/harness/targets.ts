/**
 * Builds `Target`s from a kvq package entry module (npm/index.js or
 * jsr/mod.ts). Real `Deno.openKv` lives in deno_native.ts, which only Deno
 * runners import.
 *
 * @module
 */

import type { ErrorClass, KvLike, KvU64Class, Target } from "./types.ts";
import type { TempDir } from "./platform.ts";

/** Reads a required export of a package entry, failing clearly without it. */
function required<T>(
  mod: Record<string, unknown>,
  name: string,
  what: string,
): T {
  const v = mod[name];
  if (v === undefined) throw new Error(`${what} does not export ${name}`);
  return v as T;
}

/**
 * A target backed by kvq's `openKv`, from the module `mod` exporting
 * `openKv`, `KvU64` and `BadResource`.
 */
export function kvqTarget(
  name: string,
  mod: Record<string, unknown>,
  temp: TempDir,
): Target {
  const what = `the kvq entry for ${name}`;
  const openKv = required<
    (path?: unknown, options?: unknown) => Promise<KvLike>
  >(
    mod,
    "openKv",
    what,
  );
  return {
    name,
    openKv: (path, options) => openKv(path, options),
    isDenoNative: false,
    kvqExtensions: true,
    tempPath: () => temp.next(),
    KvU64: required<KvU64Class>(mod, "KvU64", what),
    BadResource: required<ErrorClass>(mod, "BadResource", what),
  };
}
