/**
 * Runs the conformance suite against kvq's npm package on Bun:
 *
 *     node_modules/.bin/bun tests-js/run_bun.ts [filter...]
 *
 * The entry comes from npm/package.json (exports "." import, module,
 * main); the runner fails with a clear message while it is not built.
 *
 * @module
 */

import { allCases } from "./conformance/mod.ts";
import { importEntry, main, packageEntry } from "./harness/platform.ts";
import { kvqTarget } from "./harness/targets.ts";

await main(async (temp) => {
  const kvq = await importEntry(
    packageEntry("npm", "index.js"),
    "the npm package kvq",
  );
  return [kvqTarget("bun", kvq, temp)];
}, allCases);
