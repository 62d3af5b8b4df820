/** Deno's built-in KV (`Deno.openKv`, SQLite file); runs only on Deno with --unstable-kv. */
import { NotAvailableError } from "../lib/types.ts";
import { kvApiSystem, type OpenKv } from "./kv_api.ts";

const deno = (globalThis as { Deno?: { openKv?: OpenKv } }).Deno;

/** The system under test. */
export const system = kvApiSystem((path) => {
  if (!deno?.openKv) {
    throw new NotAvailableError("Deno.openKv needs Deno with --unstable-kv");
  }
  return deno.openKv(path);
});
