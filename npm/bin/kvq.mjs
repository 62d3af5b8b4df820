#!/usr/bin/env node
// The `kvq` command (npx kvq …): jsr/src/cli/main.ts on the npm build.
import { existsSync } from "node:fs";
import process from "node:process";
import { openKv, runCli } from "../dist/index.js";

process.exitCode = await runCli(process.argv.slice(2), {
  openKv,
  exists: existsSync,
});
