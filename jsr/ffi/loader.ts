/**
 * Finds and opens kvq's native library (crates/kvq-deno), once.
 *
 * Places tried, in order:
 *
 * 1. the path given to {@link setLibraryPath};
 * 2. the `KVQ_LIB` environment variable (read only when env access to it is
 *    already granted, e.g. `--allow-env=KVQ_LIB`, so it never prompts);
 * 3. the library built in this repository, `target/release/` relative to
 *    this module (`cargo build --release -p kvq-deno`), when the module is
 *    a local file.
 *
 * The first place that is given is the only one opened: a wrong explicit
 * path or `KVQ_LIB` is an error, never a silent fallback to another build.
 * Opening needs `--allow-ffi`. When nothing opens, the error names every
 * place looked at and why each failed.
 *
 * @module
 */

import { symbols } from "./symbols.ts";
import type { KvqSymbols } from "./symbols.ts";

let explicitPath: string | undefined;
let loaded: KvqSymbols | undefined;
/** The open library, while it is open; the path it came from, once it has. */
let dylib: Deno.DynamicLibrary<typeof symbols> | undefined;
let openedPath: string | undefined;

/**
 * Sets the path of kvq's native library, overriding `KVQ_LIB` and the
 * repository build. Call it before the first `openKv`; later calls throw,
 * since the library is already loaded.
 */
export function setLibraryPath(path: string | URL): void {
  if (openedPath !== undefined) {
    throw new Error(
      "kvq: setLibraryPath() must be called before the first openKv()",
    );
  }
  explicitPath = path instanceof URL ? fromFileUrl(path) : path;
}

/** The library file's name on this platform. */
function fileName(): string {
  switch (Deno.build.os) {
    case "windows":
      return "kvq_deno.dll";
    case "darwin":
      return "libkvq_deno.dylib";
    default:
      return "libkvq_deno.so";
  }
}

function fromFileUrl(url: URL): string {
  if (url.protocol !== "file:") {
    throw new TypeError(`kvq: not a file URL: ${url.href}`);
  }
  const path = decodeURIComponent(url.pathname);
  // "/C:/x" on Windows is "C:/x".
  return Deno.build.os === "windows" ? path.replace(/^\/(\w:)/, "$1") : path;
}

/** One place looked at: a path to open, or why there was none. */
interface Attempt {
  source: string;
  path?: string;
  failure?: string;
}

function places(): Attempt[] {
  const out: Attempt[] = [];
  if (explicitPath !== undefined) {
    out.push({ source: "setLibraryPath()", path: explicitPath });
  } else {
    out.push({ source: "setLibraryPath()", failure: "not called" });
  }
  const env = Deno.permissions.querySync({ name: "env", variable: "KVQ_LIB" });
  if (env.state !== "granted") {
    out.push({
      source: "KVQ_LIB",
      failure: "not read: env access not granted (--allow-env=KVQ_LIB)",
    });
  } else {
    const value = Deno.env.get("KVQ_LIB");
    out.push(
      value
        ? { source: "KVQ_LIB", path: value }
        : { source: "KVQ_LIB", failure: "not set" },
    );
  }
  const local = new URL(`../../target/release/${fileName()}`, import.meta.url);
  if (local.protocol === "file:") {
    out.push({ source: "repository build", path: fromFileUrl(local) });
  } else {
    out.push({
      source: "repository build",
      failure: `not a local module (${local.href})`,
    });
  }
  return out;
}

/**
 * The library's symbols, opening it on first use. Throws an Error listing
 * every place tried when none can be opened, or Deno's NotCapable when FFI
 * is not allowed.
 */
export function library(): KvqSymbols {
  if (loaded !== undefined) return loaded;
  // Opened before, then unloaded: the same file again (the same library:
  // crates/kvq-deno is never unmapped, so its handles are still valid).
  if (openedPath !== undefined) return load(openedPath);
  const tried = places();
  for (const attempt of tried) {
    if (attempt.path === undefined) continue;
    try {
      return load(attempt.path);
    } catch (error) {
      // A missing --allow-ffi is the whole story: building or pointing to
      // the library would not help, so Deno's own error goes out as it is.
      if (error instanceof Deno.errors.NotCapable) throw error;
      attempt.failure = error instanceof Error ? error.message : String(error);
      break;
    }
  }
  const lines = tried.map((a) =>
    `  - ${a.source}${a.path ? ` (${a.path})` : ""}: ${
      a.failure ?? "not tried (an earlier place was given)"
    }`
  );
  throw new Error(
    "kvq: cannot load the native library " + fileName() +
      ". Build it with `cargo build --release -p kvq-deno`, or point to it " +
      "with setLibraryPath() or KVQ_LIB. Tried:\n" + lines.join("\n"),
  );
}

function load(path: string): KvqSymbols {
  dylib = Deno.dlopen(path, symbols);
  openedPath = path;
  loaded = dylib.symbols;
  return loaded;
}

/**
 * Closes the library (Deno's resource for it) until the next
 * {@link library} call opens the same file again. jsr/ffi/transport.ts
 * calls it once no store is open and no call is waiting, so that a
 * `deno test` with sanitizers sees nothing left open.
 */
export function unloadLibrary(): void {
  dylib?.close();
  dylib = undefined;
  loaded = undefined;
}
