/**
 * The contracts between the orchestrator (run.ts), the child entry
 * (worker.ts), the scenarios and the system adapters. Everything that crosses
 * the process boundary is plain JSON.
 */

/** The message every scenario enqueues: an index and a 100-character body. */
export interface Payload {
  /** Index of the message within its run, 0-based; used to detect loss. */
  i: number;
  /** 100 characters of filler, so every system moves the same bytes. */
  body: string;
}

/** What a named-queue message is sent with, besides its payload. */
export interface NamedOptions {
  /** Its ordering group. */
  group?: string;
  /** Its deduplication id. */
  dedupId?: string;
}

/** The named queues of one open store (kvq's `kv.queue(name)`). */
export interface NamedQueues {
  /**
   * Enqueues `messages` into queue `name`, each with `options(message)`,
   * issued together; resolves once all are stored.
   */
  enqueueMany(
    name: string,
    messages: Payload[],
    options?: (message: Payload) => NamedOptions,
  ): Promise<void>;
  /**
   * Starts a listener of queue `name`, `concurrency` messages at a time;
   * the promise settles when it stops (rejects when it failed).
   */
  listen(
    name: string,
    handler: MessageHandler,
    concurrency: number,
  ): Promise<void>;
}

/** Called by an adapter at the moment a handler starts on a message. */
export type MessageHandler = (message: Payload) => void;

/**
 * One open, empty instance of a system under test. An adapter opens a new one
 * for every run of every scenario, so runs never see each other's data.
 */
export interface SystemInstance {
  /** Enqueues one message, optionally delayed; resolves once the system says it is stored. */
  enqueue(message: Payload, delayMs?: number): Promise<void>;
  /**
   * Enqueues many messages by the system's fastest bulk path (an atomic with
   * many enqueues, addBulk). Used only to build backlogs; never timed as enqueue.
   */
  enqueueMany(messages: Payload[]): Promise<void>;
  /** Starts the system's consumer; `handler` runs once per delivery. Called at most once. */
  listen(handler: MessageHandler): void;
  /** Writes one small value under key number `i`. */
  set(i: number, value: Payload): Promise<void>;
  /** Reads the value under key number `i`; resolves to it, or null when absent. */
  get(i: number): Promise<Payload | null>;
  /** Writes many values at once (setup for reads and listing; not timed). */
  setMany(values: Payload[]): Promise<void>;
  /**
   * Lists every value written by set/setMany and resolves to how many it saw;
   * stops early once `stop()` returns true.
   */
  listAll(stop: () => boolean): Promise<number>;
  /**
   * Opens a second, independent handle on the same database (its own
   * connection and engine, as another process would have). Optional: the
   * flood scenarios need it.
   */
  openPeer?(): Promise<SystemInstance>;
  /**
   * Watches the value under key number `i`; `onChange` gets each state the
   * watch reports (the first at once). Returns a function that stops it.
   * Optional: systems without watch leave it out.
   */
  watchKey?(i: number, onChange: (value: Payload | null) => void): () => void;
  /**
   * kvq's named queues (`kv.queue(name)`), for the named-queue scenarios.
   * Optional: only kvq rows have them.
   */
  named?: NamedQueues;
  /** Optional extra figures about the system's server side (e.g. Redis memory in MB). */
  serverStats?(): Promise<Record<string, number>>;
  /** Stops the consumer and releases everything; the instance is unusable afterwards. */
  close(): Promise<void>;
}

/** What an adapter module exports as `system`. */
export interface SystemAdapter {
  /** Opens a fresh, empty instance whose files (if any) live in `dir`. */
  open(dir: string, context: AdapterContext): Promise<SystemInstance>;
}

/** Settings the orchestrator hands to an adapter (for example where Redis listens). */
export interface AdapterContext {
  /** Loopback port of the Redis server started for this system, when it needs one. */
  redisPort?: number;
}

/**
 * Thrown by an adapter whose system is not available here (kvq not built yet,
 * a client library missing). The child reports the system as skipped, not failed.
 */
export class NotAvailableError extends Error {
  /** @param message why the system cannot run, shown in the report. */
  constructor(message: string) {
    super(message);
    this.name = "NotAvailableError";
  }
}

/** Which direction of a figure is better, used for ratios. */
export type Better = "higher" | "lower";

/** Describes one figure a scenario reports. */
export interface MetricSpec {
  /** Key in the run's `metrics` record. */
  name: string;
  /** Unit shown in the table, e.g. "msg/s", "ms", "MB". */
  unit: string;
  /** Whether a larger or a smaller value is better. */
  better: Better;
  /** True when only some systems report it (e.g. the Redis server's memory). */
  optional?: boolean;
}

/** The outcome of one run of one scenario on one system. */
export interface RunResult {
  /** Messages or operations the run was asked to do. */
  target: number;
  /** Messages or operations actually done (seen, for delivery scenarios). */
  done: number;
  /** True when `done === target`; false when the time bound stopped the run. */
  complete: boolean;
  /** Wall time of the measured part, in seconds. */
  seconds: number;
  /** Deliveries of a message already seen (at-least-once systems may redeliver). */
  duplicates: number;
  /** The figures, keyed by MetricSpec.name. */
  metrics: Record<string, number>;
}

/** What a child prints on stdout (one JSON line) for one system and scenario. */
export interface ChildReport {
  /** System id, echoed back. */
  system: string;
  /** Scenario id, echoed back. */
  scenario: string;
  /** "ok", "skipped" (system not available) or "failed" (an error). */
  status: "ok" | "skipped" | "failed";
  /** Why the scenario was skipped or failed. */
  note?: string;
  /** One entry per run, in order. */
  runs: RunResult[];
  /** Peak resident set of the child process, in MB (VmHWM). */
  peakRssMb: number;
  /** Runtime that ran the child, e.g. "node 24.9.0". */
  runtime: string;
}

/** The job the orchestrator gives a child, as JSON in its first argument. */
export interface ChildJob {
  /** System id (key of the system list). */
  system: string;
  /** Adapter module path, relative to bench/. */
  adapter: string;
  /** Scenario id, or "probe" to only check the system opens and delivers. */
  scenario: string;
  /** Number of runs. */
  runs: number;
  /** Scenario parameters. */
  params: ScenarioParams;
  /** Directory for database files; each run uses a fresh subdirectory. */
  dir: string;
  /** Adapter settings. */
  context: AdapterContext;
}

/**
 * Where a run happens, for scenarios that start a second process on the same
 * database (bench/peer.ts): the adapter, the run's directory, and the command
 * that runs a bench file on this child's own runtime.
 */
export interface RunContext {
  /** The adapter module, as a URL. */
  adapterUrl: string;
  /** The run's directory (what `open(dir)` was given). */
  dir: string;
  /** Adapter settings. */
  context: AdapterContext;
  /** The runtime's command line, to which a script path is appended. */
  runtimeCommand: string[];
}

/** Parameters of one scenario (the counts and bounds of config.ts). */
export interface ScenarioParams {
  /** Messages or operations per run. */
  count: number;
  /** Time bound of the measured loop, in seconds. */
  boundS: number;
  /** Time bound of the untimed setup (building a backlog, writing keys), in seconds. */
  setupBoundS: number;
  /** Operations issued together (Promise.all), for concurrent scenarios. */
  chunk: number;
  /** Enqueue delay in ms, for the lateness scenario. */
  delayMs: number;
  /**
   * Smoke mode: also check, untimed, that what the timed loop wrote can be read
   * back (every enqueued message delivered, every value readable).
   */
  verify: boolean;
}
