/**
 * Host objects (Blob, File, DOMException, CryptoKey) with the bytes Deno
 * 2.9.6 writes for them: fixed key material, each case's value, Deno's
 * bytes, and how to tell that a value read back is the same one. Checked
 * against real Deno by deno_kv_test.ts, against kvq's codec on every
 * runtime by host_test.ts.
 *
 * @module
 */

import { fromHex, hex } from "./harness.ts";

/** Key material for the host-object cases (generated once by Deno 2.9.6). */
export const MATERIAL = {
  rsaPkcs8: "30820277020100300d06092a864886f70d0101010500048202613082025d0201" +
    "0002818100d1b80a74790443225c2923f0dd3b1b12a49959457995a1a71f1ce9" +
    "b57ab315b6198401e3d97d1fd5729c3bfc6acd1467560e82decd9c6529083517" +
    "d922131db97b637756393dd212d311b358844df86a76c606f83b26b5a69258d2" +
    "515a97c347ac9c800b79d2e686b50ee9a8a8b41c69a27cfaa0983f92aa7cbc4d" +
    "941d107f63020301000102818014b855381ab8c41541fbc2944a974b5e752abd" +
    "7a32c008dfa5204b2ae5fb899a9b3cc29f0b5ee46547548e4cab14a5fe6baf35" +
    "58e4019eb1062190c0a03039506b4a56501e1fffc1a9b43f5f8ec2b461f8eb9d" +
    "7c6a5eeb15f5e39dbba88ef08f9ddbf712bd629f58099bf6ebcbb49f1c254c3f" +
    "b98b2abac8de2ef20230f7e339024100e7a2cec06306b7b55cc11589dd5f5970" +
    "adfd4c6fe68bb6d53fe3dc918f8f34aaffa980d0640b69c4c15cab8da2efcac4" +
    "9b44704fc1fdf72a268dbee3112a8f4d024100e7c71443e64334b5bab7870094" +
    "e49cd0609f0a7978699894a26092efa91659c4de263d3c6944325cf004eeaf93" +
    "9ba49a0f77eaacc3958bb3daad39aeacd9516f024100d3e2b4b77d9e0e7c032d" +
    "c87305220c61ab7671ee4678f5351aad67fd6ad1b77ed841084917caece48370" +
    "2ea9702b6352f728e287c2cf7ac17ee4d8814319a85d024100dc359f216bd28a" +
    "6fe6f89bc187b534f01dfcbcfcefd493ed13e1617966531ff315858b44ac56e8" +
    "eab7f857b6652dc953be4296aa9220b15cadf54b0a949adced0240683ff710a9" +
    "7ebc40122c207f7fe015ff7c76d2633786c1b25ab62335c582dcc9e28b208ef2" +
    "60085ab116af4983a68657d2bdfb595f3903ccae991dced998485c",
  rsaSpki: "30819f300d06092a864886f70d010101050003818d0030818902818100d1b80a" +
    "74790443225c2923f0dd3b1b12a49959457995a1a71f1ce9b57ab315b6198401" +
    "e3d97d1fd5729c3bfc6acd1467560e82decd9c6529083517d922131db97b6377" +
    "56393dd212d311b358844df86a76c606f83b26b5a69258d2515a97c347ac9c80" +
    "0b79d2e686b50ee9a8a8b41c69a27cfaa0983f92aa7cbc4d941d107f63020301" +
    "0001",
  ecPkcs8: "308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b02" +
    "01010420cf787bace9963e60dcbd556285acb7b0432ac30400d7d085fbcdaf2f" +
    "d91a48cea1440342000471761f64dc14a3c872ba9c103e9d6838a0a0289ecc0e" +
    "964d9f23518dcf235b4a6a5ab686886999f12c77e2f7d8a0903c58f302c51f7f" +
    "3192b5ef6f1ee1273e9e",
  ecRaw: "0471761f64dc14a3c872ba9c103e9d6838a0a0289ecc0e964d9f23518dcf235b" +
    "4a6a5ab686886999f12c77e2f7d8a0903c58f302c51f7f3192b5ef6f1ee1273e" +
    "9e",
  edPkcs8: "302e020100300506032b65700422042052018c32a90d02b8af0df155df7da06f" +
    "36d1cace1ab680df103e595bee59b1a3",
  edRaw: "dab5f8db009b244cd6bcd72b6f52895baa6b5cae66414d3b354cba9cf66b88a4",
  xPkcs8: "302e020100300506032b656e04220420ff267f47c982b2fcc7d8f62d687960c3" +
    "197b6cdc3e4d0fff5ab55849567bd924",
  xRaw: "8b35c0f53ad1c00b399be707aa88b61ea869f345e5f61a5e9a90427ddeeeb43b",
};

/** Deno 2.9.6's bytes (after the FF10 header; Blob uuids made nil) for each case. */
export const DENO_BYTES: Record<string, string> = {
  ecPairPublic:
    "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "6522067075626c6963220b6578747261637461626c6554220675736167657361" +
    "01490022067665726966794001012209616c676f726974686d6f22046e616d65" +
    "22054543445341220a6e616d656443757276652205502d3235367b0222076b65" +
    "79446174616f220474797065220770726976617465220464617461428a013081" +
    "87020100301306072a8648ce3d020106082a8648ce3d030107046d306b020101" +
    "0420cf787bace9963e60dcbd556285acb7b0432ac30400d7d085fbcdaf2fd91a" +
    "48cea1440342000471761f64dc14a3c872ba9c103e9d6838a0a0289ecc0e964d" +
    "9f23518dcf235b4a6a5ab686886999f12c77e2f7d8a0903c58f302c51f7f3192" +
    "b5ef6f1ee1273e9e5642008a01007b027b06",
  aes: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "652206736563726574220b6578747261637461626c6554220675736167657361" +
    "0249002207656e637279707449022207646563727970744002022209616c676f" +
    "726974686d6f22046e616d6522074145532d47434d22066c656e677468498004" +
    "7b0222076b6579446174616f2204747970652206736563726574220464617461" +
    "4220000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d" +
    "1e1f56420020007b027b06",
  hmac: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "652206736563726574220b6578747261637461626c6546220675736167657361" +
    "01490022047369676e4001012209616c676f726974686d6f22046e616d652204" +
    "484d414322066c656e67746849402204686173686f22046e616d652207534841" +
    "2d3235367b017b0322076b6579446174616f2204747970652206736563726574" +
    "22046461746142040102030456420004007b027b06",
  pbkdf2: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "652206736563726574220b6578747261637461626c6546220675736167657361" +
    "014900220a646572697665426974734001012209616c676f726974686d6f2204" +
    "6e616d65220650424b4446327b0122076b6579446174616f2204747970652206" +
    "736563726574220464617461420301020356420003007b027b06",
  rsaPriv: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "65220770726976617465220b6578747261637461626c65542206757361676573" +
    "6101490022047369676e4001012209616c676f726974686d6f22046e616d6522" +
    "075253412d505353220d6d6f64756c75734c656e677468498010220468617368" +
    "6f22046e616d6522075348412d3235367b01220e7075626c69634578706f6e65" +
    "6e74420301000156420003007b0422076b6579446174616f2204747970652207" +
    "7072697661746522046461746142e1043082025d02010002818100d1b80a7479" +
    "0443225c2923f0dd3b1b12a49959457995a1a71f1ce9b57ab315b6198401e3d9" +
    "7d1fd5729c3bfc6acd1467560e82decd9c6529083517d922131db97b63775639" +
    "3dd212d311b358844df86a76c606f83b26b5a69258d2515a97c347ac9c800b79" +
    "d2e686b50ee9a8a8b41c69a27cfaa0983f92aa7cbc4d941d107f630203010001" +
    "02818014b855381ab8c41541fbc2944a974b5e752abd7a32c008dfa5204b2ae5" +
    "fb899a9b3cc29f0b5ee46547548e4cab14a5fe6baf3558e4019eb1062190c0a0" +
    "3039506b4a56501e1fffc1a9b43f5f8ec2b461f8eb9d7c6a5eeb15f5e39dbba8" +
    "8ef08f9ddbf712bd629f58099bf6ebcbb49f1c254c3fb98b2abac8de2ef20230" +
    "f7e339024100e7a2cec06306b7b55cc11589dd5f5970adfd4c6fe68bb6d53fe3" +
    "dc918f8f34aaffa980d0640b69c4c15cab8da2efcac49b44704fc1fdf72a268d" +
    "bee3112a8f4d024100e7c71443e64334b5bab7870094e49cd0609f0a79786998" +
    "94a26092efa91659c4de263d3c6944325cf004eeaf939ba49a0f77eaacc3958b" +
    "b3daad39aeacd9516f024100d3e2b4b77d9e0e7c032dc87305220c61ab7671ee" +
    "4678f5351aad67fd6ad1b77ed841084917caece483702ea9702b6352f728e287" +
    "c2cf7ac17ee4d8814319a85d024100dc359f216bd28a6fe6f89bc187b534f01d" +
    "fcbcfcefd493ed13e1617966531ff315858b44ac56e8eab7f857b6652dc953be" +
    "4296aa9220b15cadf54b0a949adced0240683ff710a97ebc40122c207f7fe015" +
    "ff7c76d2633786c1b25ab62335c582dcc9e28b208ef260085ab116af4983a686" +
    "57d2bdfb595f3903ccae991dced998485c564200e104007b027b06",
  rsaPub: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "6522067075626c6963220b6578747261637461626c6554220675736167657361" +
    "01490022067665726966794001012209616c676f726974686d6f22046e616d65" +
    "22075253412d505353220d6d6f64756c75734c656e6774684980102204686173" +
    "686f22046e616d6522075348412d3235367b01220e7075626c69634578706f6e" +
    "656e74420301000156420003007b0422076b6579446174616f22047479706522" +
    "067075626c6963220464617461428c0130818902818100d1b80a74790443225c" +
    "2923f0dd3b1b12a49959457995a1a71f1ce9b57ab315b6198401e3d97d1fd572" +
    "9c3bfc6acd1467560e82decd9c6529083517d922131db97b637756393dd212d3" +
    "11b358844df86a76c606f83b26b5a69258d2515a97c347ac9c800b79d2e686b5" +
    "0ee9a8a8b41c69a27cfaa0983f92aa7cbc4d941d107f6302030100015642008c" +
    "01007b027b06",
  ecPriv: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "65220770726976617465220b6578747261637461626c65462206757361676573" +
    "6101490022047369676e4001012209616c676f726974686d6f22046e616d6522" +
    "054543445341220a6e616d656443757276652205502d3235367b0222076b6579" +
    "446174616f220474797065220770726976617465220464617461428a01308187" +
    "020100301306072a8648ce3d020106082a8648ce3d030107046d306b02010104" +
    "20cf787bace9963e60dcbd556285acb7b0432ac30400d7d085fbcdaf2fd91a48" +
    "cea1440342000471761f64dc14a3c872ba9c103e9d6838a0a0289ecc0e964d9f" +
    "23518dcf235b4a6a5ab686886999f12c77e2f7d8a0903c58f302c51f7f3192b5" +
    "ef6f1ee1273e9e5642008a01007b027b06",
  ecPub: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "6522067075626c6963220b6578747261637461626c6554220675736167657361" +
    "01490022067665726966794001012209616c676f726974686d6f22046e616d65" +
    "22054543445341220a6e616d656443757276652205502d3235367b0222076b65" +
    "79446174616f22047479706522067075626c696322046461746142410471761f" +
    "64dc14a3c872ba9c103e9d6838a0a0289ecc0e964d9f23518dcf235b4a6a5ab6" +
    "86886999f12c77e2f7d8a0903c58f302c51f7f3192b5ef6f1ee1273e9e564200" +
    "41007b027b06",
  edPriv: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "65220770726976617465220b6578747261637461626c65542206757361676573" +
    "6101490022047369676e4001012209616c676f726974686d6f22046e616d6522" +
    "07456432353531397b0122076b657944617461422052018c32a90d02b8af0df1" +
    "55df7da06f36d1cace1ab680df103e595bee59b1a356420020007b06",
  edPub: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "6522067075626c6963220b6578747261637461626c6554220675736167657361" +
    "01490022067665726966794001012209616c676f726974686d6f22046e616d65" +
    "2207456432353531397b0122076b6579446174614220dab5f8db009b244cd6bc" +
    "d72b6f52895baa6b5cae66414d3b354cba9cf66b88a456420020007b06",
  xPriv: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "65220770726976617465220b6578747261637461626c65542206757361676573" +
    "6102490022096465726976654b65794902220a64657269766542697473400202" +
    "2209616c676f726974686d6f22046e616d6522065832353531397b0122076b65" +
    "79446174614220ff267f47c982b2fcc7d8f62d687960c3197b6cdc3e4d0fff5a" +
    "b55849567bd92456420020007b06",
  xPub: "5cffffffff0f6f220474797065220943727970746f4b657922076b6579547970" +
    "6522067075626c6963220b6578747261637461626c6554220675736167657361" +
    "004000002209616c676f726974686d6f22046e616d6522065832353531397b01" +
    "22076b65794461746142208b35c0f53ad1c00b399be707aa88b61ea869f345e5" +
    "f61a5e9a90427ddeeeb43b56420020007b06",
  domex: "5cffffffff0f6f220474797065220c444f4d457863657074696f6e22076d6573" +
    "7361676522046f6f707322046e616d65220e44617461436c6f6e654572726f72" +
    "2205737461636b2201537b04",
  blob: "5cffffffff0f6f2204747970652204426c6f6222086d696d6554797065220a74" +
    "6578742f706c61696e2205706172747341016f22047575696422243030303030" +
    "3030302d303030302d303030302d303030302d30303030303030303030303022" +
    "0473697a65490a7b02240001220473697a65490a7b04",
  file: "5cffffffff0f6f220474797065220446696c6522086d696d6554797065220a74" +
    "6578742f706c61696e2205706172747341016f22047575696422243030303030" +
    "3030302d303030302d303030302d303030302d30303030303030303030303022" +
    "0473697a6549107b02240001220473697a65491022046e616d6522086e616d65" +
    "2e747874220c6c6173744d6f64696669656449f2c0017b06",
  emptyBlob:
    "5cffffffff0f6f2204747970652204426c6f6222086d696d6554797065220022" +
    "0570617274734100240000220473697a6549007b04",
};

const s = crypto.subtle;

/** The nil uuid, in hex: what {@link nilUuids} puts in every Blob part. */
const NIL_UUID =
  "30303030303030302d303030302d303030302d303030302d303030303030303030303030";

/** Replaces the uuid of every Blob part in hex-encoded bytes by the nil uuid. */
export function nilUuids(h: string): string {
  return h.replace(/(2204757569642224)[0-9a-f]{72}/g, "$1" + NIL_UUID);
}

function key(
  format: "raw" | "pkcs8" | "spki",
  material: string,
  algorithm: AlgorithmIdentifier | HmacImportParams | EcKeyImportParams,
  extractable: boolean,
  usages: KeyUsage[],
): Promise<CryptoKey> {
  return s.importKey(
    format as "raw",
    fromHex(material) as Uint8Array<ArrayBuffer>,
    algorithm,
    extractable,
    usages,
  );
}

/** One host-object case. */
export interface HostCase {
  /** Key of DENO_BYTES, and the case's name. */
  name: string;
  /** The kind of host object, for runtime-specific expectations. */
  kind: "CryptoKey" | "DOMException" | "Blob";
  /** Makes the value on the running runtime. */
  make: () => Promise<unknown>;
  /** Throws unless `got` (read back) is the value `make` gives. */
  check: (got: unknown) => Promise<void>;
}

function fail(what: string, got: unknown, expected: unknown): never {
  throw new Error(
    `${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`,
  );
}

function same(what: string, got: unknown, expected: unknown): void {
  const g = JSON.stringify(got);
  const e = JSON.stringify(expected);
  if (g !== e) fail(what, got, expected);
}

/** A CryptoKey with the expected shape; then `use` proves its material. */
function keyCheck(
  type: KeyType,
  extractable: boolean,
  algorithm: Record<string, unknown>,
  usages: string[],
  use: (k: CryptoKey) => Promise<void>,
): (got: unknown) => Promise<void> {
  return async (got) => {
    if (!(got instanceof CryptoKey)) {
      fail("class", Object.prototype.toString.call(got), "CryptoKey");
    }
    same("type", got.type, type);
    same("extractable", got.extractable, extractable);
    const a = got.algorithm as unknown as Record<string, unknown>;
    for (const [k, v] of Object.entries(algorithm)) {
      same(
        `algorithm.${k}`,
        v instanceof Uint8Array ? hex(a[k] as Uint8Array) : a[k],
        v instanceof Uint8Array ? hex(v) : v,
      );
    }
    same("usages", [...got.usages].sort(), [...usages].sort());
    await use(got);
  };
}

/** Exports `format` and compares it with `material`. */
function exports(format: "raw" | "pkcs8" | "spki", material: string) {
  return async (k: CryptoKey) => {
    same(
      `exported ${format}`,
      hex(new Uint8Array(await s.exportKey(format, k))),
      material,
    );
  };
}

const data = new Uint8Array([1, 2, 3]);
const M = MATERIAL;
const AES_RAW =
  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/** The cases. */
export const HOST_CASES: HostCase[] = [
  {
    name: "aes",
    kind: "CryptoKey",
    make: () =>
      key("raw", AES_RAW, { name: "AES-GCM" }, true, ["encrypt", "decrypt"]),
    check: keyCheck("secret", true, { name: "AES-GCM", length: 256 }, [
      "encrypt",
      "decrypt",
    ], exports("raw", AES_RAW)),
  },
  {
    name: "hmac",
    kind: "CryptoKey",
    make: () =>
      key("raw", "01020304", { name: "HMAC", hash: "SHA-256" }, false, [
        "sign",
      ]),
    check: keyCheck(
      "secret",
      false,
      { name: "HMAC", length: 32, hash: { name: "SHA-256" } },
      ["sign"],
      async (k) => {
        const ref = await key(
          "raw",
          "01020304",
          { name: "HMAC", hash: "SHA-256" },
          false,
          ["sign"],
        );
        same(
          "MAC",
          hex(new Uint8Array(await s.sign("HMAC", k, data))),
          hex(new Uint8Array(await s.sign("HMAC", ref, data))),
        );
      },
    ),
  },
  {
    name: "pbkdf2",
    kind: "CryptoKey",
    make: () => key("raw", "010203", "PBKDF2", false, ["deriveBits"]),
    check: keyCheck(
      "secret",
      false,
      { name: "PBKDF2" },
      ["deriveBits"],
      async (k) => {
        const ref = await key("raw", "010203", "PBKDF2", false, ["deriveBits"]);
        const params = {
          name: "PBKDF2",
          hash: "SHA-256",
          salt: data,
          iterations: 2,
        };
        same(
          "derived bits",
          hex(new Uint8Array(await s.deriveBits(params, k, 64))),
          hex(new Uint8Array(await s.deriveBits(params, ref, 64))),
        );
      },
    ),
  },
  {
    name: "rsaPriv",
    kind: "CryptoKey",
    make: () =>
      key("pkcs8", M.rsaPkcs8, { name: "RSA-PSS", hash: "SHA-256" }, true, [
        "sign",
      ]),
    check: keyCheck(
      "private",
      true,
      {
        name: "RSA-PSS",
        modulusLength: 1024,
        hash: { name: "SHA-256" },
        publicExponent: new Uint8Array([1, 0, 1]),
      },
      ["sign"],
      exports("pkcs8", M.rsaPkcs8),
    ),
  },
  {
    name: "rsaPub",
    kind: "CryptoKey",
    make: () =>
      key("spki", M.rsaSpki, { name: "RSA-PSS", hash: "SHA-256" }, true, [
        "verify",
      ]),
    check: keyCheck("public", true, { name: "RSA-PSS", modulusLength: 1024 }, [
      "verify",
    ], exports("spki", M.rsaSpki)),
  },
  {
    name: "ecPriv",
    kind: "CryptoKey",
    make: () =>
      key("pkcs8", M.ecPkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, [
        "sign",
      ]),
    check: keyCheck("private", false, { name: "ECDSA", namedCurve: "P-256" }, [
      "sign",
    ], async (k) => {
      const pub = await key(
        "raw",
        M.ecRaw,
        { name: "ECDSA", namedCurve: "P-256" },
        true,
        ["verify"],
      );
      const alg = { name: "ECDSA", hash: "SHA-256" };
      const sig = await s.sign(alg, k, data);
      if (!await s.verify(alg, pub, sig, data)) {
        throw new Error("bad signature");
      }
    }),
  },
  {
    name: "ecPub",
    kind: "CryptoKey",
    make: () =>
      key("raw", M.ecRaw, { name: "ECDSA", namedCurve: "P-256" }, true, [
        "verify",
      ]),
    check: keyCheck("public", true, { name: "ECDSA", namedCurve: "P-256" }, [
      "verify",
    ], exports("raw", M.ecRaw)),
  },
  {
    name: "edPriv",
    kind: "CryptoKey",
    make: () => key("pkcs8", M.edPkcs8, { name: "Ed25519" }, true, ["sign"]),
    check: keyCheck(
      "private",
      true,
      { name: "Ed25519" },
      ["sign"],
      exports("pkcs8", M.edPkcs8),
    ),
  },
  {
    name: "edPub",
    kind: "CryptoKey",
    make: () => key("raw", M.edRaw, { name: "Ed25519" }, true, ["verify"]),
    check: keyCheck(
      "public",
      true,
      { name: "Ed25519" },
      ["verify"],
      exports("raw", M.edRaw),
    ),
  },
  {
    name: "xPriv",
    kind: "CryptoKey",
    make: () =>
      key("pkcs8", M.xPkcs8, { name: "X25519" }, true, [
        "deriveKey",
        "deriveBits",
      ]),
    check: keyCheck("private", true, { name: "X25519" }, [
      "deriveKey",
      "deriveBits",
    ], exports("pkcs8", M.xPkcs8)),
  },
  {
    name: "xPub",
    kind: "CryptoKey",
    make: () => key("raw", M.xRaw, { name: "X25519" }, true, []),
    check: keyCheck(
      "public",
      true,
      { name: "X25519" },
      [],
      exports("raw", M.xRaw),
    ),
  },
  {
    name: "domex",
    kind: "DOMException",
    make: () => {
      const d = new DOMException("oops", "DataCloneError");
      Object.defineProperty(d, "stack", {
        value: "S",
        writable: true,
        configurable: true,
      });
      return Promise.resolve(d);
    },
    check: (got) => {
      if (!(got instanceof DOMException)) {
        fail("class", Object.prototype.toString.call(got), "DOMException");
      }
      same("name, message, code, stack", [
        got.name,
        got.message,
        got.code,
        got.stack,
      ], [
        "DataCloneError",
        "oops",
        25,
        "S",
      ]);
      return Promise.resolve();
    },
  },
  {
    name: "blob",
    kind: "Blob",
    make: () => Promise.resolve(new Blob(["Hello"], { type: "text/plain" })),
    check: async (got) => {
      if (!(got instanceof Blob)) fail("class", String(got), "Blob");
      same("size, text", [got.size, await got.text()], [5, "Hello"]);
      same("type", got.type.split(";")[0], "text/plain");
    },
  },
  {
    name: "file",
    kind: "Blob",
    make: () =>
      Promise.resolve(
        new File(["contents"], "name.txt", {
          type: "text/plain",
          lastModified: 12345,
        }),
      ),
    check: async (got) => {
      if (!(got instanceof File)) fail("class", String(got), "File");
      same("name, lastModified, size, text", [
        got.name,
        got.lastModified,
        got.size,
        await got.text(),
      ], ["name.txt", 12345, 8, "contents"]);
    },
  },
  {
    name: "emptyBlob",
    kind: "Blob",
    make: () => Promise.resolve(new Blob([])),
    check: async (got) => {
      if (!(got instanceof Blob)) fail("class", String(got), "Blob");
      same("size, type, text", [got.size, got.type, await got.text()], [
        0,
        "",
        "",
      ]);
    },
  },
];

/**
 * The public key of a pair Deno generated, written by Deno with the private
 * key's data (a Deno quirk): it must read back as the public key.
 */
export const PAIR_PUBLIC = {
  bytes: DENO_BYTES.ecPairPublic,
  check: keyCheck("public", true, { name: "ECDSA", namedCurve: "P-256" }, [
    "verify",
  ], async (k) => {
    same("raw point length", (await s.exportKey("raw", k)).byteLength, 65);
  }),
};
