/**
 * CryptoKey, as Deno stores it, key material included (also for a
 * non-extractable key):
 *
 *     { type: "CryptoKey", keyType, extractable, usages, algorithm, keyData }
 *
 * `usages` is a frozen array (V8 writes it sparsely); `algorithm` has
 * Deno's field order; `keyData` depends on the algorithm:
 *
 * - secret keys (AES-*, HMAC, PBKDF2, HKDF): `{ type: "secret", data }`,
 *   the raw key;
 * - RSA: `{ type: "private", data }` (PKCS#1 RSAPrivateKey DER) or
 *   `{ type: "public", data }` (PKCS#1 RSAPublicKey DER);
 * - EC: `{ type: "private", data }` (PKCS#8 DER) or `{ type: "public",
 *   data }` (the uncompressed point);
 * - Ed25519, X25519, X448: the raw key itself, a bare Uint8Array.
 *
 * Deno writes the public half of a generated RSA or EC pair with its
 * private data (`{ type: "private" }`); such a row reads back here as the
 * public key. Node and Bun reach key material and build keys synchronously
 * through node:crypto's KeyObject (`KeyObject.from`, `toCryptoKey`). Where
 * `toCryptoKey` is missing (Node 20) a stored key could not be read back,
 * so CryptoKeys are refused when written; other algorithms (ML-DSA,
 * ChaCha20-Poly1305, ...) are refused everywhere but under Deno.
 *
 * @module
 */

import { type Fn, getter, has } from "../brand.ts";
import { cloneError } from "../clone_error.ts";

interface KeyObject {
  type: string;
  export(options?: object): unknown;
  toCryptoKey?(algorithm: object, extractable: boolean, usages: unknown): Key;
}
interface NodeCrypto {
  KeyObject: { from(key: unknown): KeyObject };
  createSecretKey(key: Uint8Array): KeyObject;
  createPrivateKey(key: object): KeyObject;
  createPublicKey(key: object | KeyObject): KeyObject;
}
interface Key {
  type: string;
  extractable: boolean;
  usages: string[];
  algorithm: Record<string, unknown>;
}

const KeyClass = (globalThis as { CryptoKey?: { prototype: object } })
  .CryptoKey;
const typeOf: Fn | undefined = KeyClass && getter(KeyClass.prototype, "type");
// Loaded at the first CryptoKey: node:crypto costs Deno tens of milliseconds.
let found: NodeCrypto | null | undefined;
function nodeCrypto(): NodeCrypto | undefined {
  if (found === undefined) found = findNodeCrypto() ?? null;
  return found ?? undefined;
}

function findNodeCrypto(): NodeCrypto | undefined {
  const process = (globalThis as {
    process?: { getBuiltinModule?: (id: string) => unknown };
  }).process;
  try {
    const c = process?.getBuiltinModule?.("node:crypto") as
      | NodeCrypto
      | undefined;
    // Without toCryptoKey (Node 20) nothing stored could be read back.
    const probe = c?.createSecretKey(new Uint8Array(1));
    return typeof probe?.toCryptoKey === "function" ? c : undefined;
  } catch {
    return undefined;
  }
}

// The OIDs of the curves whose keys Deno stores raw, and their key size.
const OKP: Record<string, [number, number]> = {
  Ed25519: [0x70, 32],
  X25519: [0x6e, 32],
  X448: [0x6f, 56],
};
const RSA = new Set(["RSASSA-PKCS1-v1_5", "RSA-PSS", "RSA-OAEP"]);
const EC = new Set(["ECDSA", "ECDH"]);
const SECRET = new Set([
  "AES-CTR",
  "AES-CBC",
  "AES-GCM",
  "AES-KW",
  "HMAC",
  "PBKDF2",
  "HKDF",
]);
const CURVES = new Set(["P-256", "P-384", "P-521"]);

/** Whether `o` is a CryptoKey. */
export function isCryptoKey(o: object): boolean {
  return has(typeOf, o);
}

/** Deno's description of a CryptoKey; refuses what cannot come back here. */
export function describeCryptoKey(o: object): Record<string, unknown> {
  const key = o as Key;
  const algorithm = key.algorithm;
  const name = String(algorithm.name);
  const c = nodeCrypto();
  if (c === undefined || !supported(name)) throw cloneError(o);
  let k: KeyObject;
  try {
    k = c.KeyObject.from(key);
  } catch {
    throw cloneError(o);
  }
  return {
    type: "CryptoKey",
    keyType: key.type,
    extractable: key.extractable,
    usages: Object.freeze(Array.from(key.usages)),
    algorithm: denoAlgorithm(name, algorithm),
    keyData: keyData(name, k),
  };
}

function supported(name: string): boolean {
  return SECRET.has(name) || RSA.has(name) || EC.has(name) ||
    Object.hasOwn(OKP, name);
}

// Deno's algorithm dictionary, fields in Deno's order.
function denoAlgorithm(
  name: string,
  a: Record<string, unknown>,
): Record<string, unknown> {
  const hash = () => ({ name: (a.hash as { name: string }).name });
  if (name === "HMAC") return { name, length: a.length, hash: hash() };
  if (name.startsWith("AES-")) return { name, length: a.length };
  if (RSA.has(name)) {
    return {
      name,
      modulusLength: a.modulusLength,
      hash: hash(),
      publicExponent: new Uint8Array(a.publicExponent as Uint8Array),
    };
  }
  if (EC.has(name)) return { name, namedCurve: a.namedCurve };
  return { name };
}

function keyData(name: string, k: KeyObject): unknown {
  if (k.type === "secret") return { type: "secret", data: bytes(k.export()) };
  if (RSA.has(name)) {
    return {
      type: k.type,
      data: bytes(k.export({ format: "der", type: "pkcs1" })),
    };
  }
  if (EC.has(name)) {
    if (k.type === "private") {
      return {
        type: "private",
        data: bytes(k.export({ format: "der", type: "pkcs8" })),
      };
    }
    const jwk = k.export({ format: "jwk" }) as { x: string; y: string };
    const x = fromBase64Url(jwk.x);
    const y = fromBase64Url(jwk.y);
    const point = new Uint8Array(1 + x.length + y.length);
    point[0] = 4;
    point.set(x, 1);
    point.set(y, 1 + x.length);
    return { type: "public", data: point };
  }
  const jwk = k.export({ format: "jwk" }) as { d?: string; x: string };
  return fromBase64Url(k.type === "private" ? jwk.d! : jwk.x);
}

/** The CryptoKey a description stands for. */
export function reviveCryptoKey(d: Record<string, unknown>): object {
  const c = nodeCrypto();
  if (c === undefined) throw new TypeError("CryptoKey cannot be read here");
  const a = d.algorithm as Record<string, unknown>;
  const name = String(a.name);
  const kd = d.keyData as { type?: unknown; data?: Uint8Array };
  let k: KeyObject;
  let params: Record<string, unknown> = { name };
  if (SECRET.has(name)) {
    k = c.createSecretKey(kd.data!);
    if (name === "HMAC") {
      params = {
        name,
        hash: (a.hash as { name: string }).name,
        length: a.length,
      };
    }
  } else if (RSA.has(name)) {
    const der = { key: kd.data, format: "der", type: "pkcs1" };
    k = kd.type === "private"
      ? c.createPrivateKey(der)
      : c.createPublicKey(der);
    params = { name, hash: (a.hash as { name: string }).name };
  } else if (EC.has(name)) {
    const curve = a.namedCurve as string;
    if (!CURVES.has(curve)) throw new TypeError("Unknown curve");
    k = kd.type === "private"
      ? c.createPrivateKey({ key: kd.data, format: "der", type: "pkcs8" })
      : c.createPublicKey({ key: ecJwk(curve, kd.data!), format: "jwk" });
    params = { name, namedCurve: curve };
  } else if (Object.hasOwn(OKP, name)) {
    k = okpKey(c, OKP[name], d.keyType === "private", d.keyData as Uint8Array);
  } else {
    throw new TypeError(`Unsupported algorithm: ${name}`);
  }
  // Deno writes a generated pair's public key with the private data.
  if (d.keyType === "public" && k.type === "private") k = c.createPublicKey(k);
  return k.toCryptoKey!(params, d.extractable === true, d.usages) as object;
}

function ecJwk(crv: string, point: Uint8Array): object {
  const n = (point.length - 1) / 2;
  if (point[0] !== 4 || !Number.isInteger(n)) throw new TypeError("Bad point");
  return {
    kty: "EC",
    crv,
    x: toBase64Url(point.subarray(1, 1 + n)),
    y: toBase64Url(point.subarray(1 + n)),
  };
}

// A raw Ed25519/X25519/X448 key, wrapped in the fixed PKCS#8 or SPKI DER
// prefix of its curve.
function okpKey(
  c: NodeCrypto,
  [oid, size]: [number, number],
  isPrivate: boolean,
  raw: Uint8Array,
): KeyObject {
  if (!(raw instanceof Uint8Array) || raw.length !== size) {
    throw new TypeError("Bad key size");
  }
  const alg = [0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, oid];
  const head = isPrivate
    ? [0x30, 14 + size, 0x02, 0x01, 0x00, ...alg, 0x04, size + 2, 0x04, size]
    : [0x30, 10 + size, ...alg, 0x03, size + 1, 0x00];
  const der = new Uint8Array(head.length + size);
  der.set(head);
  der.set(raw, head.length);
  const key = { key: der, format: "der", type: isPrivate ? "pkcs8" : "spki" };
  return isPrivate ? c.createPrivateKey(key) : c.createPublicKey(key);
}

// A fresh Uint8Array over its own buffer of exactly its length (node:crypto
// hands out Buffers that may sit in a larger pool).
function bytes(b: unknown): Uint8Array {
  return new Uint8Array(b as Uint8Array);
}

function fromBase64Url(s: string): Uint8Array {
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function toBase64Url(b: Uint8Array): string {
  let bin = "";
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}
