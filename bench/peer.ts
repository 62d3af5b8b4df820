/**
 * The second process of the scenarios that need one, on the same database
 * with the same adapter. It prints "ready" once open, then:
 *
 * - `relay` (scenarios/cross.ts): for each line `k` on stdin, enqueues
 *   message k and sets key 0 to it;
 * - `tick` (scenarios/flood.ts): writes one key every 10 ms, each awaited,
 *   until told to stop; then prints one JSON line: how long each write took
 *   (`{"waits": [ms, ...]}`).
 *
 * "quit" on stdin closes and exits. Usage:
 * `<runtime> bench/peer.ts <relay|tick> <adapter URL> <dir> '<context JSON>'`.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { payload } from "./lib/payload.ts";
import { now } from "./lib/time.ts";
import type { SystemAdapter } from "./lib/types.ts";

/** How often `tick` writes. */
const TICK_MS = 10;

const [mode, adapterUrl, dir, context] = process.argv.slice(2);
const adapter = (await import(adapterUrl)).system as SystemAdapter;
const instance = await adapter.open(dir, JSON.parse(context ?? "{}"));
process.stdout.write("ready\n");
const lines = createInterface({ input: process.stdin });
if (mode === "tick") {
  let stop = false;
  lines.on("line", (line) => stop ||= line === "quit");
  lines.on("close", () => stop = true);
  const waits: number[] = [];
  for (let k = 0; !stop; k++) {
    const t = now();
    await instance.set(-1, payload(k));
    waits.push(now() - t);
    await new Promise((r) => setTimeout(r, TICK_MS));
  }
  process.stdout.write(JSON.stringify({ waits }) + "\n");
} else {
  for await (const line of lines) {
    if (line === "quit") break;
    const k = Number(line);
    await Promise.all([
      instance.enqueue(payload(k)),
      instance.set(0, payload(k)),
    ]);
  }
}
await instance.close();
process.exit(0);
