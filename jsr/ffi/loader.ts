/**
 * Finds and opens kvq's native library (crates/kvq-deno), once.
 *
 * Places tried, in order:
 *
 * 1. the path given to {@link setLibraryPath};
 * 2. the `KVQ_LIB` environment variable (read only when env access to it is
 *    already granted, e.g. `--allow-env=KVQ_LIB`, so it never prompts);
 * 3. the npm package built for this platform (`kvq-deno-linux-x64-gnu`,
 *    `kvq-deno-linux-arm64-gnu`), found through `npm:kvq-deno` of this
 *    module's own version: Deno fetches both with this module, so a user
 *    of `jsr:@kvq/kvq` builds nothing and sets nothing;
 * 4. the library built in this repository, `target/release/` relative to
 *    this module (`cargo build --release -p kvq-deno`), when the module is
 *    a local file.
 *
 * The first place that is given is the only one opened: a wrong explicit
 * path or `KVQ_LIB` is an error, never a silent fallback to another build.
 * Opening needs `--allow-ffi`; finding the package needs no permission.
 * When nothing opens, the error names the platform, every place looked at
 * and why each failed, and what to install.
 *
 * @module
 */

import { symbols } from "./symbols.ts";
import type { KvqSymbols } from "./symbols.ts";

// The packages' version is this module's own (jsr/deno.json), written out
// because an import must be a literal for Deno to fetch it with the module;
// tests-js/package/versions_test.sh checks that the two agree.
const PACKAGE = "kvq-deno@0.1.0";
/** The platforms kvq-deno has a package for (its `platforms`). */
const SHIPPED = ["linux-x64-gnu", "linux-arm64-gnu"];

/** This platform as kvq's packages name it: `linux-x64-gnu`, ... */
function platform(): string {
  const arch = ({ x86_64: "x64", aarch64: "arm64" } as Record<string, string>)[
    Deno.build.arch
  ] ?? Deno.build.arch;
  const libc = Deno.build.target.match(/-(gnu|musl|msvc)\w*$/)?.[1];
  return `${Deno.build.os}-${arch}${libc ? `-${libc}` : ""}`;
}

/**
 * The package's library for this platform, looked up once when this
 * module loads (a dynamic import, so that a missing package is reported
 * with the other places rather than failing the import of kvq).
 */
const packaged: Attempt = await (async () => {
  try {
    // Inline, not through jsr/deno.json's imports: the published module
    // is then the very file tested here (tests-js/package/deno_test.sh).
    // deno-lint-ignore no-import-prefix
    const { findLibrary } = await import("npm:kvq-deno@0.1.0");
    const found = findLibrary(platform());
    return found.path !== undefined
      ? { source: `package ${found.package}`, path: found.path }
      : { source: `package ${found.package}`, failure: found.error };
  } catch (error) {
    return {
      source: `package ${PACKAGE}`,
      failure: error instanceof Error ? error.message : String(error),
    };
  }
})();

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
  out.push({ ...packaged }, repositoryBuild());
  return out;
}

/** The library built in this repository, when this module is a local file. */
function repositoryBuild(): Attempt {
  const local = new URL(`../../target/release/${fileName()}`, import.meta.url);
  return local.protocol === "file:"
    ? { source: "repository build", path: fromFileUrl(local) }
    : {
      source: "repository build",
      failure: `not a local module (${local.href})`,
    };
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
    `kvq: cannot load the native library for ${platform()} (${fileName()}). ` +
      advice() + " Tried:\n" + lines.join("\n"),
  );
}

/** What to install or build, for the platform this runs on. */
function advice(): string {
  const own = "build crates/kvq-deno (`cargo build --release -p kvq-deno`) " +
    "and pass the library's path to setLibraryPath() or KVQ_LIB.";
  const p = platform();
  if (!SHIPPED.includes(p)) {
    return `kvq ships no library for ${p} (only for ${
      SHIPPED.join(", ")
    }): ${own}`;
  }
  const pkg = PACKAGE.replace("kvq-deno@", `kvq-deno-${p}@`);
  return `It comes in the npm package ${pkg}, which Deno fetches with ` +
    `jsr:@kvq/kvq (through npm:${PACKAGE}). Where npm manages ` +
    `node_modules ("nodeModulesDir": "manual"), install it with ` +
    `\`npm install ${PACKAGE}\`. For a build of your own, ${own}`;
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
