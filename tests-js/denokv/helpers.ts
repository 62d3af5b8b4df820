/**
 * Helpers for the KV Connect tests: emptying the one database a denokv
 * server holds, and the server's URL and token from scripts/denokv.sh.
 *
 * @module
 */

import process from "node:process";
import type { KvLike } from "../harness/types.ts";

/** The server's URL (scripts/denokv.sh sets it). */
export function serverUrl(): string {
  const url = process.env.KVQ_DENOKV_URL ?? "";
  if (url === "") throw new Error("KVQ_DENOKV_URL is not set");
  return url;
}

/** Deletes every key on the server, through `openKv(url)`. */
export async function emptyServer(
  openKv: (path: string) => Promise<KvLike>,
  url: string,
): Promise<void> {
  const kv = await openKv(url);
  try {
    for (;;) {
      const keys: unknown[] = [];
      for await (const e of kv.list({ prefix: [] }, { limit: 500 })) {
        keys.push(e.key);
      }
      if (keys.length === 0) return;
      const op = kv.atomic();
      for (const key of keys) op.delete(key);
      await op.commit();
    }
  } finally {
    kv.close();
  }
}
