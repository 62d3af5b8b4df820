/**
 * Runs bunqueue's broker (its `bunqueue start` command) for bunqueue_pg.ts,
 * and ends it when the process that started it goes away (its stdin
 * closes): a benchmark child killed at its time bound must not leave a
 * broker behind. Configured by the environment bunqueue reads (storage,
 * ports, host). Usage: `bun bench/systems/bunqueue_broker.ts`.
 */
import process from "node:process";

process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
// What `bunqueue start` runs (its CLI starts only as the entry point).
const server = new URL(
  "../../node_modules/bunqueue/dist/cli/commands/server.js",
  import.meta.url,
);
const { runServer } = await import(server.href);
await runServer([], false);
