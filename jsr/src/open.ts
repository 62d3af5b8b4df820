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
import type { Transport } from "./transport.ts";
import type { OpenKvOptions } from "./types.ts";

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
    try {
      const file = resolvePath(path);
      const json = checkOpenOptions(options);
      const store = transport.open(file, json);
      return Promise.resolve(newKv(new KvState(transport, store)));
    } catch (error) {
      return Promise.reject(error);
    }
  };
}

/**
 * The engine path for an `openKv` path: `":memory:"` for none (kvq has no
 * per-script default location), a file path for a string or `file:` URL.
 * Throws Deno's TypeErrors for `""` and a leading `:`, and an Error for
 * http(s) URLs (KV Connect is not implemented).
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
  if (/^https?:\/\//i.test(path)) {
    throw new Error(`KV Connect is not supported yet: ${path}`);
  }
  if (/^file:/i.test(path)) return urlPath(new URL(path));
  if (path.startsWith(":")) {
    throw new TypeError(
      "Filename cannot start with ':' unless prefixed with './'",
    );
  }
  return path;
}

function urlPath(url: URL): string {
  if (url.protocol === "http:" || url.protocol === "https:") {
    throw new Error(`KV Connect is not supported yet: ${url.href}`);
  }
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
