/**
 * kvq on Node over KV Connect: the npm package with `openKv(url)` on the
 * official denokv server `scripts/denokv.sh` started for the run (its URL
 * in KVQ_DENOKV_URL, its token in DENO_KV_ACCESS_TOKEN, which openKv
 * reads). The queue is kvq's queue made of keys (jsr/src/kvqueue).
 *
 * A denokv server holds one database, so runs take turns in it: the first
 * handle of a run (a directory the store has not seen) empties the store
 * and marks it with the directory; the other handles and processes of the
 * same run (openPeer, peer.ts) find the mark and leave the data alone.
 */
import process from "node:process";
import {
  NotAvailableError,
  type SystemAdapter,
  type SystemInstance,
} from "../lib/types.ts";
import { kvApiInstance, type OpenKv } from "./kv_api.ts";
import { npmEntry } from "./kvq_load.ts";

/** The key that names the run the store belongs to. */
const RUN_KEY = ["bench_run"];
/** Deletes per atomic operation while emptying (the limit is 1000). */
const DELETES = 500;

/**
 * Enqueues per atomic operation when building a backlog: kvq's queue on
 * KV Connect writes several keys per message, and an atomic operation
 * holds at most 1000 mutations (the bench hands over 500 messages).
 */
const ENQUEUES = 100;

/** The part of Deno.Kv that emptying the store needs. */
interface Clearable {
  get(key: unknown[]): Promise<{ value: unknown; versionstamp: string | null }>;
  list(
    selector: { prefix: unknown[] },
    options?: { batchSize?: number },
  ): AsyncIterable<{ key: unknown[] }>;
  atomic(): {
    check(c: { key: unknown[]; versionstamp: string | null }): unknown;
    set(key: unknown[], value: unknown): unknown;
    delete(key: unknown[]): unknown;
    commit(): Promise<{ ok: boolean }>;
  };
}

function serverUrl(): string {
  const url = process.env.KVQ_DENOKV_URL;
  if (!url) {
    throw new NotAvailableError(
      "no denokv server: run the bench under scripts/denokv.sh (make bench does)",
    );
  }
  return url;
}

/**
 * Makes the store the run's own: empties it unless it already belongs to
 * the run of `dir`. Two handles of one run opening at once both see the
 * old mark; the check on it lets only one of them take the store.
 */
async function claimForRun(kv: Clearable, dir: string): Promise<void> {
  const mark = await kv.get(RUN_KEY);
  if (mark.value === dir) return;
  const taken = kv.atomic();
  taken.check({ key: RUN_KEY, versionstamp: mark.versionstamp });
  taken.set(RUN_KEY, dir);
  if (!(await taken.commit()).ok) return;
  let op = kv.atomic();
  let n = 0;
  for await (const entry of kv.list({ prefix: [] }, { batchSize: 1000 })) {
    if (entry.key.length === 1 && entry.key[0] === RUN_KEY[0]) continue;
    op.delete(entry.key);
    if (++n === DELETES) {
      await op.commit();
      op = kv.atomic();
      n = 0;
    }
  }
  if (n > 0) await op.commit();
}

/** `instance`, its bulk enqueues split into operations that fit. */
function splitBulk(instance: SystemInstance): SystemInstance {
  const enqueueMany = instance.enqueueMany.bind(instance);
  instance.enqueueMany = async (messages) => {
    const parts: Promise<void>[] = [];
    for (let i = 0; i < messages.length; i += ENQUEUES) {
      parts.push(enqueueMany(messages.slice(i, i + ENQUEUES)));
    }
    await Promise.all(parts);
  };
  const openPeer = instance.openPeer?.bind(instance);
  if (openPeer) {
    instance.openPeer = async () => splitBulk(await openPeer());
  }
  return instance;
}

let loaded: Promise<OpenKv> | undefined;

/** kvq's openKv from the npm package, or NotAvailableError when unbuilt. */
function load(): Promise<OpenKv> {
  return loaded ??= import(npmEntry()).then(
    (mod: { openKv?: OpenKv }) => {
      if (typeof mod.openKv !== "function") {
        throw new NotAvailableError("npm/ has no openKv export");
      }
      return mod.openKv;
    },
    (e: Error) => {
      throw new NotAvailableError(
        `kvq not built (make build, npm/): ${e.message.split("\n")[0]}`,
      );
    },
  );
}

/** The system under test. */
export const system: SystemAdapter = {
  async open(dir) {
    const url = serverUrl();
    const openKv = await load();
    const kv = await openKv(url);
    await claimForRun(kv as unknown as Clearable, dir);
    return splitBulk(kvApiInstance(kv, () => openKv(url)));
  },
};
