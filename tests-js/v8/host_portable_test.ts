/**
 * host_test.ts under Deno with Deno's core out of reach: kvq then takes the
 * portable host-object path of Node and Bun.
 *
 * Run: node_modules/.bin/deno run -A tests-js/v8/host_portable_test.ts
 *
 * @module
 */

const deno = (globalThis as { Deno?: Record<PropertyKey, unknown> }).Deno;
if (deno !== undefined) {
  delete deno[deno.internal as symbol];
  (globalThis as { KVQ_PORTABLE_HOSTS?: boolean }).KVQ_PORTABLE_HOSTS = true;
}
await import("./host_test.ts");
