/**
 * The oracle target: Deno's built-in `Deno.openKv` (run with --unstable-kv).
 * Imported only by Deno runner scripts.
 *
 * @module
 */

import type { KvLike, KvU64Class, Target } from "./types.ts";
import type { TempDir } from "./platform.ts";

/** Builds the real-Deno target; fails clearly without --unstable-kv. */
export function denoNativeTarget(temp: TempDir): Target {
  if (typeof Deno === "undefined" || typeof Deno.openKv !== "function") {
    throw new Error(
      "Deno.openKv is missing: run with `deno run -A --unstable-kv`",
    );
  }
  return {
    name: "deno-native",
    // Deno.openKv has no options argument; pass only the path through.
    openKv: (path) =>
      Deno.openKv(path as string) as Promise<unknown> as Promise<KvLike>,
    isDenoNative: true,
    kvqExtensions: false,
    tempPath: () => temp.next(),
    KvU64: Deno.KvU64 as unknown as KvU64Class,
    BadResource: Deno.errors.BadResource,
  };
}
