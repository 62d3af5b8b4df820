/**
 * The second process of the cross-process scenario (scenarios/cross.ts):
 * opens the same database with the same adapter, prints "ready", then for
 * each line `k` on stdin enqueues message k and sets key 0 to it; "quit"
 * closes and exits. Usage:
 * `<runtime> bench/peer.ts <adapter URL> <dir> '<adapter context JSON>'`.
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { payload } from "./lib/payload.ts";
import type { SystemAdapter } from "./lib/types.ts";

const [adapterUrl, dir, context] = process.argv.slice(2);
const adapter = (await import(adapterUrl)).system as SystemAdapter;
const instance = await adapter.open(dir, JSON.parse(context ?? "{}"));
process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
  if (line === "quit") break;
  const k = Number(line);
  await Promise.all([
    instance.enqueue(payload(k)),
    instance.set(0, payload(k)),
  ]);
}
await instance.close();
process.exit(0);
