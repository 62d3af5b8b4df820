/**
 * kvq-deno: where kvq's FFI library for this platform is, for
 * jsr:@kvq/kvq's loader. The library comes in the per-platform package
 * (`kvq-deno-linux-x64-gnu`, `kvq-deno-linux-arm64-gnu`), an optional
 * dependency of this one.
 *
 * @module
 */

/** This package's version, shared by every kvq package of one release. */
export declare const version: string;

/** The platforms kvq ships a Deno library for, e.g. `"linux-x64-gnu"`. */
export declare const platforms: readonly string[];

/** The library for one platform: its path, or why there is none. */
export interface FoundLibrary {
  /** The platform package looked for, with its version: `name@version`. */
  package: string;
  /** The library file's path, when the package is installed. */
  path?: string;
  /** Why there is no path: not installed, another version, or no such platform. */
  error?: string;
}

/**
 * Looks for the library of `platform` (`os-arch-libc` as in
 * {@link platforms}) in its package, resolved from this one.
 */
export declare function findLibrary(platform: string): FoundLibrary;
