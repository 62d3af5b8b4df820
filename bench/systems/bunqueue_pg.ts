/**
 * bunqueue 2.9 in its PostgreSQL mode, on Bun. That mode is server-only: a
 * broker process (bunqueue_broker.ts) keeps the jobs in PostgreSQL (claims
 * with SKIP LOCKED, wake-ups by LISTEN) and clients reach it over TCP. The
 * first instance of a run starts the broker on a free loopback port, on a
 * database of its own created on the private server (`scripts/pg.sh`) and
 * dropped on close; other processes of the run (bench/peer.ts) find its
 * port in the run's directory. KV rows: a plain table (pg_place.ts), as for
 * the other Postgres peers.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { basename, join } from "node:path";
import process from "node:process";
import type { SystemAdapter } from "../lib/types.ts";
import { bunqueueInstance, loadBunqueue } from "./bunqueue_load.ts";
import {
  createSchema,
  dropSchema,
  PgKv,
  pgPool,
  pgUrl,
  schemaFor,
} from "./pg_place.ts";

/** How long the broker may take to listen. */
const START_MS = 30_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, broker: ChildProcess): Promise<void> {
  const until = Date.now() + START_MS;
  while (Date.now() < until) {
    if (broker.exitCode !== null) {
      throw new Error(`the bunqueue broker exited (${broker.exitCode})`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port }, () => {
        socket.end();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`the bunqueue broker did not listen within ${START_MS} ms`);
}

/** Runs one statement as the server's superuser (databases are created so). */
async function asAdmin(sql: string): Promise<void> {
  const admin = process.env.KVQ_POSTGRES_ADMIN_URL;
  if (!admin) {
    throw new Error("KVQ_POSTGRES_ADMIN_URL is not set (pg.sh sets it)");
  }
  const pg = await import("pg");
  const Client = (pg.default?.Client ?? pg.Client) as new (url: string) => {
    connect(): Promise<void>;
    query(sql: string): Promise<unknown>;
    end(): Promise<void>;
  };
  const client = new Client(admin);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Starts the run's broker on a fresh database; resolves to its port and how to stop it. */
async function startBroker(
  dir: string,
): Promise<{ port: number; stop: () => Promise<void> }> {
  const database = `bq_${
    basename(dir).toLowerCase().replace(/[^a-z0-9_]/g, "_")
  }`
    .slice(0, 60);
  const user = decodeURIComponent(new URL(pgUrl()).username);
  await asAdmin(`create database "${database}" owner "${user}"`);
  const url = new URL(pgUrl());
  url.pathname = `/${database}`;
  const [port, httpPort] = [await freePort(), await freePort()];
  const script = new URL("./bunqueue_broker.ts", import.meta.url).pathname;
  const broker = spawn(process.execPath, [script], {
    env: {
      ...process.env,
      BUNQUEUE_STORAGE_DRIVER: "postgres",
      BUNQUEUE_POSTGRES_URL: url.href,
      HOST: "127.0.0.1",
      TCP_PORT: String(port),
      HTTP_PORT: String(httpPort),
    },
    stdio: ["pipe", "ignore", "inherit"],
  });
  const exited = new Promise((r) => broker.once("exit", r));
  const stop = async () => {
    if (broker.exitCode === null && broker.signalCode === null) {
      broker.kill("SIGTERM");
      const timer = setTimeout(() => broker.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await asAdmin(`drop database if exists "${database}" with (force)`);
  };
  try {
    await waitForPort(port, broker);
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, stop };
}

/** The system under test. */
export const system: SystemAdapter = {
  async open(dir) {
    const client = await loadBunqueue();
    const state = join(dir, "bunqueue-broker.json");
    let port: number;
    let stopBroker = () => Promise.resolve();
    if (existsSync(state)) {
      port = JSON.parse(readFileSync(state, "utf8")).port;
    } else {
      const broker = await startBroker(dir);
      port = broker.port;
      stopBroker = broker.stop;
      writeFileSync(state, JSON.stringify({ port }));
    }
    const schema = schemaFor("bqkv", dir);
    const pool = await pgPool(4);
    const owner = await createSchema(pool, schema);
    const kv = await PgKv.open(pool, schema);
    return bunqueueInstance(
      client,
      { connection: { host: "127.0.0.1", port } },
      {
        set: (i, value) => kv.set(i, value),
        get: (i) => kv.get(i),
        setMany: (values) => kv.setMany(values),
        listAll: (stop) => kv.listAll(stop),
      },
      async () => {
        if (owner) await dropSchema(pool, schema);
        await pool.end();
        await stopBroker();
      },
    );
  },
};
