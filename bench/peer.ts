/**
 * The second process of the scenarios that need one, on the same database
 * with the same adapter. It prints "ready" once open, then:
 *
 * - `relay` (scenarios/cross.ts): for each line `k` on stdin, enqueues
 *   message k (and, for a line `k w`, sets key 0 to it at the same time),
 *   then prints `sent k T`: T is when it started, as `wallNow()`;
 * - `tick` (scenarios/flood.ts): writes one key every 10 ms, each awaited,
 *   until told to stop; then prints one JSON line: how long each write took
 *   (`{"waits": [ms, ...]}`);
 * - `consume` (scenarios/drain.ts): on the line `go`, starts the consumer
 *   and every 20 ms prints the messages whose handler started since, with
 *   when (`{"i": [...], "t": [wallNow(), ...]}`).
 *
 * "quit" on stdin closes and exits. Usage:
 * `<runtime> bench/peer.ts <relay|tick|consume> <adapter URL> <dir> '<context JSON>'`.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { payload } from "./lib/payload.ts";
import { now, wallNow } from "./lib/time.ts";
import type { SystemAdapter } from "./lib/types.ts";

/** How often `tick` writes. */
const TICK_MS = 10;
/** How often `consume` reports. */
const REPORT_MS = 20;

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
} else if (mode === "consume") {
  const seen: number[] = [];
  const times: number[] = [];
  const report = () => {
    if (seen.length === 0) return;
    process.stdout.write(JSON.stringify({ i: seen, t: times }) + "\n");
    seen.length = 0;
    times.length = 0;
  };
  const timer = setInterval(report, REPORT_MS);
  for await (const line of lines) {
    if (line === "quit") break;
    if (line === "go") {
      instance.listen((m) => {
        times.push(wallNow());
        seen.push(m.i);
      });
    }
  }
  clearInterval(timer);
  report();
} else {
  for await (const line of lines) {
    if (line === "quit") break;
    const [k, watched] = line.split(" ");
    const t = wallNow();
    await Promise.all([
      instance.enqueue(payload(Number(k))),
      watched ? instance.set(0, payload(Number(k))) : undefined,
    ]);
    process.stdout.write(`sent ${k} ${t}\n`);
  }
}
await instance.close();
process.exit(0);
