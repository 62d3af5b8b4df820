/**
 * `openKv(path?, options?)`: path rules, kvq's options, and the transport
 * that carries the database.
 *
 * @module
 */

import { checkOpenOptions } from "./check.ts";
import { type Kv, newKv } from "./kv.ts";
import { KvState } from "./state.ts";
import { awakeTransport } from "./awake.ts";
import type { NativeStore, Transport } from "./transport.ts";
import type { OpenKvOptions } from "./types.ts";
import { withQueues } from "./kvqueue/mod.ts";

/** The `openKv` function a package entry exports. */
export type OpenKv = (
  path?: string | URL,
  options?: OpenKvOptions,
) => Promise<Kv>;

/**
 * Builds the `openKv` of one runtime from its transport; the npm and jsr
 * entry files call this once.
 */
export function createOpenKv(native: Transport): OpenKv {
  const transport = awakeTransport(native);
  return function openKv(
    path?: string | URL,
    options?: OpenKvOptions,
  ): Promise<Kv> {
    // Every failure, even a synchronous one, is a rejection, as in Deno.
    // The transport opens off this thread: migrating the file and waiting
    // for another process's lock never stall the event loop.
    let opened: Promise<NativeStore>;
    let remote = false;
    try {
      const resolved = resolvePath(path);
      remote = isRemote(resolved);
      const checked = checkOpenOptions(options);
      opened = transport.open(
        resolved,
        remote ? withToken(checked) : checked,
      );
    } catch (error) {
      return Promise.reject(error);
    }
    return opened.then((store) => {
      const kv = newKv(new KvState(transport, store));
      // KV Connect has no queue operations: a remote store's enqueue,
      // listenQueue and atomic().enqueue() are the queue made of keys
      // (docs/queues-on-kv.md), shared with any process that wraps the
      // same server with withQueues(), Deno's own Deno.openKv included.
      // Its leaseMs is the queue's, as on the other backends.
      const leaseMs = (options as { leaseMs?: number } | undefined)?.leaseMs;
      return remote
        ? withQueues(
          kv,
          leaseMs === undefined ? {} : { leaseMs },
        ) as unknown as Kv
        : kv;
    });
  };
}

/**
 * The engine path for an `openKv` path: `":memory:"` for none (kvq has no
 * per-script default location), a `postgres://` or `postgresql://` URL as
 * it is, a file path for a string or `file:` URL.
 * A string starting with `file:` is read as SQLite reads it, since Deno
 * hands it to SQLite: `file:rel.db` is `rel.db` in the working directory
 * (see {@link sqliteUriPath}). Throws Deno's TypeErrors for `""` and a
 * leading `:`. An `http://` or `https://` URL is a KV Connect database,
 * passed on as it is.
 */
export function resolvePath(path: unknown): string {
  if (path === undefined || path === null || path === ":memory:") {
    return ":memory:";
  }
  if (typeof URL === "function" && path instanceof URL) return urlPath(path);
  // Deno reports any non-string path (openKv(123)) as an empty filename.
  if (typeof path !== "string" || path === "") {
    throw new TypeError("Filename cannot be empty");
  }
  // A Postgres store: the engine reads the URL (and never repeats its
  // password in an error).
  if (/^postgres(ql)?:\/\//i.test(path)) return path;
  if (isRemote(path)) return path;
  // Case-sensitive, as SQLite: "FILE:x" is a file of that name.
  if (path.startsWith("file:")) return sqliteUriPath(path);
  if (path.startsWith(":")) {
    throw new TypeError(
      "Filename cannot start with ':' unless prefixed with './'",
    );
  }
  return path;
}

/**
 * The file a `file:` string names, as SQLite parses a URI filename
 * (sqlite3ParseUri): after `file:`, an optional `//authority` that must be
 * empty or `localhost` (else Error "invalid uri authority: ..."), then the
 * path, relative or absolute, up to `?` or `#`, its `%HH` escapes decoded
 * (`%00` ends it). Query parameters (`mode=ro`...) are not applied. An
 * empty path, which SQLite opens as a private temporary database, opens a
 * private in-memory one.
 */
function sqliteUriPath(uri: string): string {
  let at = 5;
  if (uri.startsWith("//", at)) {
    let end = uri.indexOf("/", at + 2);
    if (end < 0) end = uri.length;
    const authority = uri.slice(at + 2, end);
    if (authority !== "" && authority !== "localhost") {
      throw new Error(`invalid uri authority: ${authority}`);
    }
    at = end;
  }
  const utf8 = new TextEncoder().encode(uri.slice(at));
  const bytes: number[] = [];
  for (let i = 0; i < utf8.length; i++) {
    const c = utf8[i];
    if (c === 0x3f || c === 0x23) break; // '?' or '#'
    if (c === 0x25 && isHex(utf8[i + 1]) && isHex(utf8[i + 2])) {
      const octet = parseInt(String.fromCharCode(utf8[i + 1], utf8[i + 2]), 16);
      if (octet === 0) break;
      bytes.push(octet);
      i += 2;
    } else {
      bytes.push(c);
    }
  }
  const path = new TextDecoder().decode(new Uint8Array(bytes));
  if (path === "") return ":memory:";
  // file:///C:/x on Windows names C:/x, for SQLite too.
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path;
}

function isHex(c: number | undefined): boolean {
  return c !== undefined &&
    ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) ||
      (c >= 0x61 && c <= 0x66));
}

function urlPath(url: URL): string {
  if (url.protocol === "http:" || url.protocol === "https:") return url.href;
  // Other schemes are file names, as Deno treats them.
  if (url.protocol !== "file:") return url.href;
  if (url.host !== "" && url.host !== "localhost") {
    throw new TypeError(
      `File URL host must be "localhost" or empty: ${url.href}`,
    );
  }
  const path = decodeURIComponent(url.pathname);
  // file:///C:/x on Windows names C:/x.
  return /^\/[A-Za-z]:\//.test(path) ? path.slice(1) : path;
}

/** Whether an engine path is a KV Connect URL. */
function isRemote(path: string): boolean {
  return /^https?:\/\//i.test(path);
}

/**
 * The open options with the access token from `DENO_KV_ACCESS_TOKEN` when
 * none was given, read here because not every runtime hands changes to
 * its environment made from JavaScript on to native code (the engine
 * reads the variable too, as a fallback).
 */
function withToken(json: string): string {
  const options = JSON.parse(json) as { accessToken?: string };
  if (options.accessToken !== undefined) return json;
  const token = envToken();
  if (token === undefined || token === "") return json;
  return JSON.stringify({ ...options, accessToken: token });
}

function envToken(): string | undefined {
  const name = "DENO_KV_ACCESS_TOKEN";
  const g = globalThis as {
    Deno?: { env?: { get(name: string): string | undefined } };
    process?: { env?: Record<string, string | undefined> };
  };
  try {
    if (g.Deno?.env !== undefined) return g.Deno.env.get(name);
  } catch {
    // No --allow-env: the engine reads the variable itself.
  }
  return g.process?.env?.[name];
}
