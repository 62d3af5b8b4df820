/**
 * Runs the conformance suite against kvq's JSR package (FFI) on Deno:
 *
 *     node_modules/.bin/deno run -A --unstable-kv tests-js/run_deno_ffi.ts [filter...]
 *
 * `--targets=deno-ffi,deno-native` also runs real Deno.openKv in the same
 * process and prints a case x target table. The entry comes from jsr/deno.json
 * (exports), else jsr/mod.ts; the runner fails clearly while it is missing.
 *
 * @module
 */

import { allCases } from "./conformance/mod.ts";
import { denoNativeTarget } from "./harness/deno_native.ts";
import { flag, importEntry, main, packageEntry } from "./harness/platform.ts";
import { kvqTarget } from "./harness/targets.ts";
import type { Target } from "./harness/types.ts";

const wanted = (flag("targets") ?? "deno-ffi").split(",");

await main(async (temp) => {
  const targets: Target[] = [];
  for (const name of wanted) {
    if (name === "deno-native") targets.push(denoNativeTarget(temp));
    else if (name === "deno-ffi") {
      const kvq = await importEntry(
        packageEntry("jsr", "mod.ts"),
        "the JSR package @kvq/kvq",
      );
      targets.push(kvqTarget("deno-ffi", kvq, temp));
    } else {throw new Error(
        `unknown target ${name} (use deno-ffi, deno-native)`,
      );}
  }
  return targets;
}, allCases);
