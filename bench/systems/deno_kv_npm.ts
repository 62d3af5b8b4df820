/** @deno/kv (npm, its own napi SQLite backend) on Node. */
import { NotAvailableError } from "../lib/types.ts";
import { kvApiSystem, type OpenKv } from "./kv_api.ts";

let openKv: OpenKv | undefined;
let why = "";
try {
  openKv = (await import("@deno/kv")).openKv as unknown as OpenKv;
} catch (e) {
  why = `@deno/kv could not be loaded: ${(e as Error).message}`;
}

/** The system under test. */
export const system = kvApiSystem((path) => {
  if (!openKv) throw new NotAvailableError(why);
  return openKv(path);
});
