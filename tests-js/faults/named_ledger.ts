/**
 * The named-queue side of a full-disk test (kvq's `kv.queue(name)`, kept
 * in the engine): messages `{ id }` enqueued in ordering groups beside
 * the test's writes, a listener recording what it gets, and the checks:
 * every enqueue that resolved is delivered, none that rejected is, each
 * group in enqueue order and never two of its messages at once, and
 * nothing left in the queue once it is drained.
 *
 * @module
 */

import { check, shown, step } from "./disk.ts";

// deno-lint-ignore no-explicit-any
type AnyKv = any;

/** The groups messages are spread over (id modulo this). */
const GROUPS = 3;

/** What the named queue of a full-disk test did. */
export class NamedLedger {
  enqueued = new Set<number>();
  refused = new Set<number>();
  /** Ids in delivery order, per group (deliveries again included). */
  order = new Map<string, number[]>();
  delivered = new Set<number>();
  /** Two messages of one group ran at once. */
  overlaps: string[] = [];
  /** Whether the listener's promise settled (it should not, until close). */
  listenerEnded = false;
  #queue: AnyKv;
  #running = new Set<string>();

  /**
   * The queue `name` of `kv` (kvq's Kv). Claims last 2 s: a server that
   * crashed (Postgres PANICs when its WAL cannot grow) may lose the
   * acknowledgements it had committed last (they are committed without
   * waiting for the disk), and such a message comes again once its lease
   * lapses and the sweep's grace after the outage is over (see
   * `checkDrained`): at least once, within the checks' wait.
   */
  constructor(kv: AnyKv, name = "jobs") {
    this.#queue = kv.queue(name, { leaseMs: 2000 });
  }

  /** Listens on the queue, recording every message; returns the promise. */
  listen(): Promise<void> {
    const listening: Promise<void> = this.#queue.listen(
      async (m: { id: number }, info: { group: string }) => {
        if (this.#running.has(info.group)) {
          this.overlaps.push(`${m.id} while ${info.group} ran`);
        }
        this.#running.add(info.group);
        const order = this.order.get(info.group) ?? [];
        order.push(m.id);
        this.order.set(info.group, order);
        this.delivered.add(m.id);
        await new Promise((r) => setTimeout(r, 2));
        this.#running.delete(info.group);
      },
      { concurrency: 8 },
    );
    listening.then(
      () => this.listenerEnded = true,
      (e: unknown) => {
        this.listenerEnded = true;
        step(`the named listener rejected: ${shown(e)}`);
      },
    );
    return listening;
  }

  /**
   * Enqueues `{ id }` in group `g<id % 3>`; records whether it resolved,
   * and hands a rejection to `refused`.
   */
  enqueue(id: number, refused: (e: unknown) => void): Promise<void> {
    return this.#queue.enqueue({ id }, { group: `g${id % GROUPS}` }).then(
      () => {
        this.enqueued.add(id);
      },
      (e: unknown) => {
        this.refused.add(id);
        refused(e);
      },
    );
  }

  /** Whether every enqueue that resolved was delivered. */
  allDelivered(): boolean {
    return [...this.enqueued].every((id) => this.delivered.has(id));
  }

  /**
   * The checks once every acknowledged message was delivered (`where`
   * names the moment in the log). The queue must empty within `settleMs`:
   * after a storage outage the engine takes no lapsed lease back for as
   * long as the outage lasted (at most the store's lease), so that other
   * holders can record their outcomes first; a test whose server crashed
   * passes the outage's length on top.
   */
  async checkDrained(where: string, settleMs = 10_000): Promise<void> {
    const lost = [...this.enqueued].filter((id) => !this.delivered.has(id));
    check(
      lost.length === 0,
      `${where}: all ${this.enqueued.size} named enqueues that resolved were delivered (missing: ${
        lost.slice(0, 10)
      })`,
    );
    const ghosts = [...this.refused].filter((id) => this.delivered.has(id));
    check(
      ghosts.length === 0,
      `${where}: none of the ${this.refused.size} rejected named enqueues was delivered (delivered: ${
        ghosts.slice(0, 10)
      })`,
    );
    const back: string[] = [];
    for (const [group, ids] of this.order) {
      ids.forEach((id, i) => {
        if (i > 0 && id < ids[i - 1]) {
          back.push(`${group}: ${ids[i - 1]}, ${id}`);
        }
      });
    }
    check(
      back.length === 0,
      `${where}: each group in enqueue order (out of order: ${
        back.slice(0, 5)
      })`,
    );
    check(
      this.overlaps.length === 0,
      `${where}: never two messages of a group at once (${
        this.overlaps.slice(0, 5)
      })`,
    );
    const counts = await this.#settledCounts(settleMs);
    check(
      JSON.stringify(counts) ===
        '{"ready":0,"delayed":0,"waiting":0,"running":0,"dead":0}',
      `${where}: the named queue is empty, nothing leased or dead (${
        JSON.stringify(counts)
      })`,
    );
  }

  /** The queue's counts once no message is running (or after `ms`). */
  async #settledCounts(ms: number): Promise<Record<string, number>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const counts = await this.#queue.counts();
      const busy = counts.running + counts.ready + counts.waiting;
      if (busy === 0 || Date.now() > deadline) return counts;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops the listener. */
  close(): void {
    this.#queue.close();
  }
}
