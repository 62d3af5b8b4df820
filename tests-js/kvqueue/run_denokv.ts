/**
 * The queue-on-KV suite's queue cases on real Deno's own KV Connect
 * client, `Deno.openKv(url)` wrapped by `withQueues`, against a denokv
 * server, with no kvq native code loaded:
 *
 *     scripts/denokv.sh node_modules/.bin/deno run -A --unstable-kv tests-js/kvqueue/run_denokv.ts [filter...]
 *
 * The server holds one database: each case starts with it emptied.
 *
 * @module
 */

import process from "node:process";
import { main } from "../harness/platform.ts";
import type { Case, KvLike } from "../harness/types.ts";
import { cases as queueEnqueue } from "../conformance/queue.enqueue.ts";
import { cases as queueListen } from "../conformance/queue.listen.ts";
import { cases as queueDeviations } from "../conformance/queue.deviations.ts";
import { emptyServer } from "../denokv/helpers.ts";
import { adaptConformance, queueTarget } from "./targets.ts";
import { cases as atomic } from "./withQueues.atomic.ts";
import { cases as listenQueue } from "./withQueues.listenQueue.ts";

const url = process.env.KVQ_DENOKV_URL ?? "";
if (url === "") {
  console.error("KVQ_DENOKV_URL is not set: run it under scripts/denokv.sh");
  process.exit(1);
}

/** Cases about files or the server's own limits, with the reason. */
const NOT_ON_SERVER: [string, string][] = [
  ["queue.listen: messages survive reopening a file", "about files"],
  ["limits: ", "the server's limits"],
];

function onServer(c: Case): Case {
  const why = NOT_ON_SERVER.find(([prefix]) => c.name.startsWith(prefix));
  if (why !== undefined) return { ...c, skip: () => why[1] };
  return {
    ...c,
    run: async (t) => {
      await emptyServer(
        (p) => Deno.openKv(p) as Promise<unknown> as Promise<KvLike>,
        url,
      );
      await c.run(t);
    },
  };
}

await main(
  async (temp) => [{
    ...await queueTarget("deno-native", temp),
    name: "kvqueue-deno-native-denokv",
    tempPath: () => url,
  }],
  [
    ...adaptConformance([...queueEnqueue, ...queueListen, ...queueDeviations]),
    ...atomic,
    ...listenQueue,
  ].map(onServer),
);
