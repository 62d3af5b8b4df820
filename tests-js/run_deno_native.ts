/**
 * Runs the conformance suite against real `Deno.openKv`, the oracle:
 *
 *     node_modules/.bin/deno run -A --unstable-kv tests-js/run_deno_native.ts [filter...]
 *
 * @module
 */

import { allCases } from "./conformance/mod.ts";
import { denoNativeTarget } from "./harness/deno_native.ts";
import { main } from "./harness/platform.ts";

await main((temp) => Promise.resolve([denoNativeTarget(temp)]), allCases);
