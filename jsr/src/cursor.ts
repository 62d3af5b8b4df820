/**
 * Byte ranges of list selectors and Deno's list cursor (ext/kv/lib.rs
 * RawSelector, encode_cursor, decode_selector_and_cursor): padded URL-safe
 * base64 of the last key minus the selector's common prefix.
 *
 * @module
 */

/** A selector's byte range and what cursors are relative to. */
export interface ByteSelector {
  /** First key of the range (inclusive). */
  start: Uint8Array;
  /** End of the range (exclusive). */
  end: Uint8Array;
  /** The prefix cursors are relative to. */
  common: Uint8Array;
  /** The selector's explicit start key, if any (bounds a cursor). */
  explicitStart?: Uint8Array;
  /** The selector's explicit end key, if any (bounds a cursor). */
  explicitEnd?: Uint8Array;
}

/** `a ‖ b`. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** `a ‖ byte`. */
export function append(a: Uint8Array, byte: number): Uint8Array {
  const out = new Uint8Array(a.length + 1);
  out.set(a);
  out[a.length] = byte;
  return out;
}

/** memcmp order: negative, zero or positive. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}

function startsWith(a: Uint8Array, prefix: Uint8Array): boolean {
  if (a.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if (a[i] !== prefix[i]) return false;
  }
  return true;
}

/**
 * The range of an encoded selector (spec 1.5), with Deno's TypeErrors for a
 * start or end outside the prefix and a start above the end.
 */
export function selectorRange(
  prefix: Uint8Array | undefined,
  start: Uint8Array | undefined,
  end: Uint8Array | undefined,
): ByteSelector {
  if (prefix !== undefined) {
    if (start !== undefined) {
      if (!startsWith(start, prefix) || start.length === prefix.length) {
        throw new TypeError(
          "Start key is not in the keyspace defined by prefix",
        );
      }
      return {
        start,
        end: append(prefix, 0xff),
        common: prefix,
        explicitStart: start,
      };
    }
    if (end !== undefined) {
      if (!startsWith(end, prefix) || end.length === prefix.length) {
        throw new TypeError("End key is not in the keyspace defined by prefix");
      }
      return {
        start: append(prefix, 0),
        end,
        common: prefix,
        explicitEnd: end,
      };
    }
    return {
      start: append(prefix, 0),
      end: append(prefix, 0xff),
      common: prefix,
    };
  }
  const s = start!;
  const e = end!;
  if (compareBytes(s, e) > 0) {
    throw new TypeError("Start key is greater than end key");
  }
  let n = 0;
  while (n < s.length && n < e.length && s[n] === e[n]) n++;
  return {
    start: s,
    end: e,
    common: s.subarray(0, n),
    explicitStart: s,
    explicitEnd: e,
  };
}

/**
 * The range to read when resuming at `cursor`: TypeError "invalid cursor"
 * when it is not padded URL-safe base64, "cursor out of bounds" when it
 * points outside the selector.
 */
export function cursorRange(
  sel: ByteSelector,
  cursor: string,
  reverse: boolean,
): [Uint8Array, Uint8Array] {
  const suffix = decodeBase64Url(cursor);
  if (suffix === null) throw new TypeError("invalid cursor");
  const at = concat(sel.common, suffix);
  const first = reverse ? sel.start : append(at, 0);
  const last = reverse ? at : sel.end;
  if (
    (sel.explicitStart !== undefined &&
      compareBytes(first, sel.explicitStart) < 0) ||
    (sel.explicitEnd !== undefined && compareBytes(last, sel.explicitEnd) > 0)
  ) {
    throw new TypeError("cursor out of bounds");
  }
  return [first, last];
}

/** The cursor of `key` (encoded) under `sel`. */
export function encodeCursor(sel: ByteSelector, key: Uint8Array): string {
  return encodeBase64Url(key.subarray(sel.common.length));
}

const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) INDEX[ALPHABET.charCodeAt(i)] = i;

/** URL-safe base64 with `=` padding. */
export function encodeBase64Url(b: Uint8Array): string {
  let s = "";
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const v = (b[i] << 16) | (b[i + 1] << 8) | b[i + 2];
    s += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] +
      ALPHABET[(v >> 6) & 63] + ALPHABET[v & 63];
  }
  const rest = b.length - i;
  if (rest === 1) {
    const v = b[i] << 16;
    s += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] + "==";
  } else if (rest === 2) {
    const v = (b[i] << 16) | (b[i + 1] << 8);
    s += ALPHABET[v >> 18] + ALPHABET[(v >> 12) & 63] +
      ALPHABET[(v >> 6) & 63] + "=";
  }
  return s;
}

/**
 * Strict padded URL-safe base64, as Rust's base64 `URL_SAFE` engine
 * decodes it: length a multiple of 4, padding only at the end, no unused
 * non-zero bits. Null when invalid.
 */
export function decodeBase64Url(s: string): Uint8Array | null {
  if (s.length % 4 !== 0) return null;
  let pad = 0;
  if (s.endsWith("==")) pad = 2;
  else if (s.endsWith("=")) pad = 1;
  const n = s.length;
  const out = new Uint8Array((n / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < n; i += 4) {
    const last = i + 4 === n;
    let v = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      let d: number;
      if (last && j >= 4 - pad) {
        if (c !== 0x3d) return null;
        d = 0;
      } else {
        d = c < 128 ? INDEX[c] : -1;
        if (d < 0) return null;
      }
      v = (v << 6) | d;
    }
    if (last && pad === 2) {
      if (v & 0xffff) return null;
      out[o++] = v >> 16;
    } else if (last && pad === 1) {
      if (v & 0xff) return null;
      out[o++] = v >> 16;
      out[o++] = (v >> 8) & 0xff;
    } else {
      out[o++] = v >> 16;
      out[o++] = (v >> 8) & 0xff;
      out[o++] = v & 0xff;
    }
  }
  return out;
}
