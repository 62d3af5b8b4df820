/**
 * Starts and stops the loopback Redis servers of the BullMQ rows. Every server
 * started is recorded so that `stopAllRedis()` (also called on exit and on
 * signals by run.ts) can kill it whatever happened.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running redis-server. */
export interface RedisServer {
  /** Loopback port it listens on. */
  port: number;
  /** Stops it and deletes its data directory. */
  stop(): Promise<void>;
}

const running = new Set<{ child: ChildProcess; dir: string }>();

/** True when `redis-server` is on PATH. */
export function redisAvailable(): boolean {
  try {
    execFileSync("redis-server", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Asks the OS for a free loopback port. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port"))
      );
    });
  });
}

/** Resolves once a TCP connection to the port succeeds, or rejects after `ms`. */
async function waitForPort(port: number, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
      socket.connect(port, "127.0.0.1");
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `redis-server did not listen on 127.0.0.1:${port} within ${ms} ms`,
  );
}

/**
 * Starts redis-server on a free loopback port: memory only (no RDB snapshots,
 * no AOF), or with an AOF fsynced every second in a fresh temporary directory.
 */
export async function startRedis(mode: "memory" | "aof"): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "kvq-bench-redis-"));
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", ""];
  args.push(
    ...(mode === "aof"
      ? ["--appendonly", "yes", "--appendfsync", "everysec"]
      : ["--appendonly", "no"]),
  );
  args.push("--dir", dir);
  const child = spawn("redis-server", args, {
    stdio: ["ignore", "ignore", "inherit"],
  });
  const entry = { child, dir };
  running.add(entry);
  const stop = async () => {
    if (!running.delete(entry)) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 10_000);
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, stop };
}

/** Kills every server still running, synchronously (safe in an exit handler). */
export function stopAllRedis(): void {
  for (const { child, dir } of running) {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
  running.clear();
}
