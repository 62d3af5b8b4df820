/**
 * kvq on Node on Postgres: the npm package with `openKv(postgresUrl)`.
 * The server is the one `scripts/pg.sh` started for the run (its URL in
 * KVQ_POSTGRES_URL); each run gets a schema of its own, named after the
 * run's directory, so a second handle or process (openPeer, peer.ts) on the
 * same directory opens the same store.
 */
import { basename, dirname } from "node:path";
import process from "node:process";
import { NotAvailableError } from "../lib/types.ts";
import { kvqSystem, npmEntry } from "./kvq_load.ts";

const url = process.env.KVQ_POSTGRES_URL;

/** The run's store: its directory's name as the schema. */
function storeUrl(path: string): string {
  if (!url) {
    throw new NotAvailableError(
      "no Postgres: run the bench under scripts/pg.sh (make bench does)",
    );
  }
  const schema = "b_" +
    basename(dirname(path)).toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const u = new URL(url);
  u.searchParams.set("schema", schema.slice(0, 40));
  return u.href;
}

/** The system under test. */
export const system = kvqSystem(npmEntry(), "make build, npm/", storeUrl);
