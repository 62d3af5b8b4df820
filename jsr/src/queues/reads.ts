/**
 * Point reads gathered into `getMany` calls: every key asked for in one
 * turn of the event loop is read by calls of 10 keys (the `Deno.Kv`
 * limit), so the acknowledgements of a batch of grouped messages, each
 * reading its group's state and next message, cost a tenth of the reads.
 *
 * @module
 */

import type { KvEntryMaybe, KvKey } from "../types.ts";
import type { KvStore } from "../kvqueue/types.ts";

interface Pending {
  key: KvKey;
  resolve: (e: KvEntryMaybe<unknown>) => void;
  reject: (error: unknown) => void;
}

/** Reads keys of `kv`, gathered per turn into `getMany` calls. */
export class GatheredReads {
  #kv: KvStore;
  #pending: Pending[] = [];

  /** Reads of `kv`. */
  constructor(kv: KvStore) {
    this.#kv = kv;
  }

  /** Reads `key`, with the other keys asked for in this turn. */
  get(key: KvKey): Promise<KvEntryMaybe<unknown>> {
    return new Promise((resolve, reject) => {
      if (this.#pending.length === 0) queueMicrotask(() => this.#flush());
      this.#pending.push({ key, resolve, reject });
    });
  }

  #flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (let i = 0; i < pending.length; i += 10) {
      const chunk = pending.slice(i, i + 10);
      this.#kv.getMany(chunk.map((p) => p.key)).then(
        (entries) => chunk.forEach((p, j) => p.resolve(entries[j])),
        (error) => chunk.forEach((p) => p.reject(error)),
      );
    }
  }
}
