/**
 * Host objects from public APIs, for Node, Bun and a Deno whose core is out
 * of reach: DOMException, Blob and File, CryptoKey. Each is recognised by
 * its `Object.prototype.toString` tag, then confirmed by a brand check.
 *
 * @module
 */

import { cloneError } from "../clone_error.ts";
import { describeBlob, isBlob, reviveBlob } from "./blob.ts";
import {
  describeCryptoKey,
  isCryptoKey,
  reviveCryptoKey,
} from "./crypto_key.ts";
import {
  describeDOMException,
  isDOMException,
  reviveDOMException,
} from "./dom_exception.ts";
import type { HostCodec } from "./mod.ts";

type Description = Record<string, unknown>;

const REVIVERS = new Map<string, (d: Description) => object>([
  ["Blob", reviveBlob],
  ["File", reviveBlob],
  ["DOMException", reviveDOMException],
  ["CryptoKey", reviveCryptoKey],
]);

/** The portable host codec. */
export const portableHosts: HostCodec = {
  is(o, tag) {
    switch (tag) {
      case "[object Blob]": // Bun's File too
      case "[object File]":
        return isBlob(o);
      case "[object DOMException]":
        return isDOMException(o);
      case "[object CryptoKey]":
        return isCryptoKey(o);
    }
    return false;
  },
  describe(o) {
    if (isBlob(o)) return describeBlob(o);
    if (isDOMException(o)) return describeDOMException(o);
    if (isCryptoKey(o)) return describeCryptoKey(o);
    throw cloneError(o);
  },
  revive(d) {
    const type = typeof d === "object" && d !== null
      ? (d as { type?: unknown }).type
      : undefined;
    const revive = typeof type === "string" ? REVIVERS.get(type) : undefined;
    if (revive === undefined) {
      throw new TypeError(`Unknown host object type: ${String(type)}`);
    }
    return revive(d as Description);
  },
};
