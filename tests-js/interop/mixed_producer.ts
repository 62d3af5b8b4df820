/**
 * Child of mixed_runtimes_test.ts: `mixed_producer.ts DB COUNT` enqueues
 * COUNT messages `{ i }` (0 <= i < COUNT) on DB with kvq.
 *
 * @module
 */

import process from "node:process";
import { Checks, describe, printResult } from "./checks.ts";
import { loadKvq } from "./kvq_entry.ts";

// Enqueues in flight at once: enough for kvq to fold them into few commits.
const IN_FLIGHT = 500;

const [file, countText] = process.argv.slice(2);
const count = Number(countText);
const checks = new Checks();
try {
  const { openKv } = await loadKvq();
  const kv = await openKv(file);
  const start = Date.now();
  for (let base = 0; base < count; base += IN_FLIGHT) {
    const batch: Promise<unknown>[] = [];
    for (let i = base; i < Math.min(count, base + IN_FLIGHT); i++) {
      batch.push(kv.enqueue({ i }));
    }
    await Promise.all(batch);
  }
  const ms = Date.now() - start;
  kv.close();
  checks.check(`enqueued ${count} messages`, true);
  printResult({ ms });
} catch (e) {
  checks.check("producer", false, describe(e));
}
checks.finish();
