/**
 * Hand-made wire inputs: unusual but valid ones (padding, legacy tags, holes,
 * trailing bytes, version 13) and invalid ones. golden_test.ts runs them through
 * deserialize; deno_kv_test.ts stores them in a Deno KV file and reads them with
 * real Deno to show Deno agrees.
 *
 * @module
 */

/** Valid inputs: label, hex bytes (spaces ignored), the value they hold. */
export const QUIRKS: [string, string, unknown][] = [
  [
    "a v13 view without a flags byte",
    "ff0d 4202 0102 5642 00 02",
    new Uint8Array([1, 2]),
  ],
  ["padding before tags", "ff0f 00 6f 00 22 01 61 00 49 14 7b 01", { a: 10 }],
  ["legacy uint32 tag U", "ff0f 55 0a", 10],
  ["legacy UTF-8 string tag S", "ff0f 53 04 c3a9 c3a9", "éé"],
  ["legacy object count tag ?", "ff0f 3f 05 49 04", 2],
  ["a hole tag in a dense array", "ff0f 41 03 49 02 2d 49 06 24 00 03", [
    1,
    ,
    3,
  ]],
  ["trailing bytes after the value", "ff0f 54 ff ff", true],
  [
    "a back-reference to a buffer followed by a view",
    "ff0f 41 02 4202 0102 5e 01 5642 00 02 00 24 00 02",
    (() => {
      const b = new Uint8Array([1, 2]).buffer;
      return [b, new Uint8Array(b)];
    })(),
  ],
];

/**
 * Inputs deserialize refuses with Deno's RangeError "could not deserialize value":
 * label, hex bytes, and Deno 2.9.6's own different error where it has one.
 */
export const INVALID: [string, string, string?][] = [
  ["empty input", ""],
  ["headerless", "2205 68656c6c6f"],
  ["version 17", "ff11 54"],
  ["version 12", "ff0c 54"],
  ["header only", "ff0f"],
  ["unknown tag", "ff0f 01"],
  ["host object", "ff0f 5c 0102 0102"],
  ["truncated double", "ff0f 4e 0000"],
  ["truncated varint", "ff0f 49 80"],
  ["string longer than input", "ff0f 22 05 6869"],
  ["odd two-byte length", "ff0f 63 03 414100"],
  ["object count mismatch", "ff0f 6f 2201 61 4902 7b 02"],
  ["object key not string or number", "ff0f 6f 54 4902 7b 01"],
  ["unterminated object", "ff0f 6f 2201 61 4902"],
  ["dense array length mismatch", "ff0f 41 01 4902 24 00 02"],
  ["dense array longer than input", "ff0f 41 7f 4902"],
  ["sparse array count mismatch", "ff0f 61 02 4900 4902 40 02 02"],
  ["map count mismatch", "ff0f 3b 4902 4904 3a 01"],
  ["set count mismatch", "ff0f 27 4902 2c 02"],
  ["back-reference to nothing", "ff0f 5e 00"],
  // Deno 2.9.6 throws a plain Error with an empty message here [observed].
  ["back-reference inside the error being read", "ff0f 72 63 5e 00 2e", ""],
  ["view past the end of its buffer", "ff0f 4202 0102 5642 01 02 00"],
  ["misaligned Int32Array", "ff0f 4208 0000000000000000 5664 02 04 00"],
  ["unknown view subtag", "ff0f 4202 0102 5620 00 02 00"],
  ["length-tracking view on a fixed buffer", "ff0f 4202 0102 5642 00 00 03"],
  ["view tag at top level", "ff0f 5642 00 02 00"],
  ["regexp with unknown flag bits", "ff0f 52 2201 78 8004"],
  ["error with unknown subtag", "ff0f 72 7a 2e"],
  ["error message not a string", "ff0f 72 6d 4902 2e"],
  ["bigint longer than input", "ff0f 5a 10 0102"],
];
