/**
 * The queue-on-KV suite on real Deno's own `Deno.openKv`, a temp file and
 * memory, with no kvq native code loaded:
 *
 *     node_modules/.bin/deno run -A --unstable-kv tests-js/kvqueue/run_deno_native.ts [filter...]
 *
 * @module
 */

import { main } from "../harness/platform.ts";
import { allCases } from "./mod.ts";
import { queueTarget } from "./targets.ts";

await main(
  async (temp) => [
    await queueTarget("deno-native", temp),
    await queueTarget("deno-native", temp, true),
  ],
  allCases,
);
