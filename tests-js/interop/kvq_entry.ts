/**
 * Loads kvq in a child process: the jsr module (FFI) under Deno, the npm
 * package (N-API) under Node and Bun, as their users would.
 *
 * @module
 */

import type { KvLike, KvU64Class } from "../harness/types.ts";

/** What a child needs from a kvq package. */
export interface Kvq {
  /** kvq's `openKv(path, options)`. */
  openKv(path: string, options?: Record<string, unknown>): Promise<KvLike>;
  /** kvq's `KvU64`. */
  KvU64: KvU64Class;
  /** Which package was loaded: "jsr" or "npm". */
  packageName: "jsr" | "npm";
}

/** Imports the kvq package that suits the running runtime. */
export async function loadKvq(): Promise<Kvq> {
  const isDeno = "Deno" in globalThis;
  const entry = isDeno ? "../../jsr/mod.ts" : "../../npm/dist/index.js";
  const mod = await import(new URL(entry, import.meta.url).href);
  return {
    openKv: mod.openKv,
    KvU64: mod.KvU64,
    packageName: isDeno ? "jsr" : "npm",
  };
}

/** Which runtime runs this script. */
export function runtimeName(): "deno" | "bun" | "node" {
  if ("Deno" in globalThis) return "deno";
  if ("Bun" in globalThis) return "bun";
  return "node";
}
