/**
 * Child of beside_deno_test.ts, on kvq: `listen FILE LEASE_MS FOR_MS` opens
 * the file with a short lease (so its sweep of lapsed leases runs every
 * 50 ms), listens for FOR_MS, and prints how many messages it was given.
 *
 * @module
 */

import process from "node:process";
import { Checks, describe, printResult } from "./checks.ts";
import { loadKvq } from "./kvq_entry.ts";

const [file, leaseMs, forMs] = process.argv.slice(2);
const checks = new Checks();
try {
  const { openKv } = await loadKvq();
  const kv = await openKv(file, { leaseMs: Number(leaseMs) });
  const delivered: unknown[] = [];
  const stop = new AbortController();
  const listening = kv.listenQueue((m: unknown) => {
    delivered.push(m);
  }, { signal: stop.signal });
  await new Promise((r) => setTimeout(r, Number(forMs)));
  stop.abort();
  await listening;
  kv.close();
  checks.check("kvq listened beside deno", true);
  printResult({ delivered });
} catch (e) {
  checks.check(`listen ${file}`, false, describe(e));
}
checks.finish();
