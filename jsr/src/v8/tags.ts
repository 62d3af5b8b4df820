/**
 * Byte constants of V8's ValueSerializer wire format (src/objects/value-serializer.cc).
 *
 * Plain numeric constants rather than an enum: enums are not erasable TypeScript, and
 * module constants are inlined by every engine's optimiser on the hot path.
 *
 * @module
 */

/** The format version kvq writes. Node 20/24 write 15 too; Deno 2.9.6 writes 16. */
export const WRITE_VERSION = 15;
/** Oldest header version the reader accepts (what Deno reads back: 13, 15, 16). */
export const MIN_READ_VERSION = 13;
/** Newest header version the reader accepts (Deno 2.9.6 writes 16). */
export const MAX_READ_VERSION = 16;

/** 0xFF: the header tag, followed by the version as a varint. */
export const VERSION = 0xff;
/** 0x00: padding, ignored wherever a tag is expected. */
export const PADDING = 0x00;
/** '?': legacy object count, followed by a varint and a value; the count is ignored. */
export const VERIFY_OBJECT_COUNT = 0x3f;
/** '_': undefined. */
export const UNDEFINED = 0x5f;
/** '0': null. */
export const NULL = 0x30;
/** 'T': true. */
export const TRUE = 0x54;
/** 'F': false. */
export const FALSE = 0x46;
/** 'I': a number that fits an int32 (a V8 Smi), zigzag varint. */
export const INT32 = 0x49;
/** 'U': a uint32 varint (never written by V8 today, still readable). */
export const UINT32 = 0x55;
/** 'N': a float64, little-endian. */
export const DOUBLE = 0x4e;
/** 'Z': a bigint: varint bitfield (sign bit, byte length << 1), then 64-bit digits LE. */
export const BIGINT = 0x5a;
/** 'S': a UTF-8 string (legacy; read only). */
export const UTF8_STRING = 0x53;
/** '"': a one-byte (Latin-1) string: varint length, bytes. */
export const ONE_BYTE_STRING = 0x22;
/** 'c': a two-byte string: varint byte length, UTF-16LE code units. */
export const TWO_BYTE_STRING = 0x63;
/** '^': a back-reference to an already serialised object, by varint id. */
export const OBJECT_REFERENCE = 0x5e;
/** 'o': start of a plain object. */
export const BEGIN_OBJECT = 0x6f;
/** '{': end of a plain object, followed by the varint property count. */
export const END_OBJECT = 0x7b;
/** 'a': start of a sparse array, followed by the varint length. */
export const BEGIN_SPARSE_ARRAY = 0x61;
/** '@': end of a sparse array: varint property count, varint length. */
export const END_SPARSE_ARRAY = 0x40;
/** 'A': start of a dense array, followed by the varint length and that many values. */
export const BEGIN_DENSE_ARRAY = 0x41;
/** '$': end of a dense array: varint extra-property count, varint length. */
export const END_DENSE_ARRAY = 0x24;
/** '-': a hole inside a dense array. */
export const THE_HOLE = 0x2d;
/** 'D': a Date, float64 milliseconds. */
export const DATE = 0x44;
/** 'y': new Boolean(true). */
export const TRUE_OBJECT = 0x79;
/** 'x': new Boolean(false). */
export const FALSE_OBJECT = 0x78;
/** 'n': new Number(x), float64. */
export const NUMBER_OBJECT = 0x6e;
/** 'z': Object(bigint), bigint payload without its 'Z'. */
export const BIGINT_OBJECT = 0x7a;
/** 's': new String(s), followed by a string value. */
export const STRING_OBJECT = 0x73;
/** 'R': a RegExp: source string, varint flags. */
export const REGEXP = 0x52;
/** ';': start of a Map. */
export const BEGIN_MAP = 0x3b;
/** ':': end of a Map, followed by the varint count of keys plus values. */
export const END_MAP = 0x3a;
/** "'": start of a Set. */
export const BEGIN_SET = 0x27;
/** ',': end of a Set, followed by the varint element count. */
export const END_SET = 0x2c;
/** 'B': an ArrayBuffer: varint byte length, bytes. */
export const ARRAY_BUFFER = 0x42;
/** '~': a resizable ArrayBuffer: varint byte length, varint max byte length, bytes. */
export const RESIZABLE_ARRAY_BUFFER = 0x7e;
/** 'V': a view over the ArrayBuffer just read: subtag, offset, length, flags. */
export const ARRAY_BUFFER_VIEW = 0x56;
/** 'r': an Error, followed by error subtags up to ERROR_END. */
export const ERROR = 0x72;
/**
 * '\\': a host object, in the embedder's own format. Deno's: the varint
 * 0xFFFFFFFF, then the object's description as a value (see host/mod.ts).
 */
export const HOST_OBJECT = 0x5c;

/** Error subtag 'E': prototype EvalError. */
export const ERROR_EVAL = 0x45;
/** Error subtag 'R': prototype RangeError. */
export const ERROR_RANGE = 0x52;
/** Error subtag 'F': prototype ReferenceError. */
export const ERROR_REFERENCE = 0x46;
/** Error subtag 'S': prototype SyntaxError. */
export const ERROR_SYNTAX = 0x53;
/** Error subtag 'T': prototype TypeError. */
export const ERROR_TYPE = 0x54;
/** Error subtag 'U': prototype URIError. */
export const ERROR_URI = 0x55;
/** Error subtag 'm': the message string follows. */
export const ERROR_MESSAGE = 0x6d;
/** Error subtag 's': the stack string follows. */
export const ERROR_STACK = 0x73;
/** Error subtag 'c': the cause value follows. */
export const ERROR_CAUSE = 0x63;
/** Error subtag '.': end of the error. */
export const ERROR_END = 0x2e;

/** View flag bit: the view tracks the length of a resizable buffer. */
export const VIEW_LENGTH_TRACKING = 1;
/** View flag bit: the view's buffer is resizable. */
export const VIEW_BACKED_BY_RAB = 2;

/** RegExp flag bits in V8's order (JSRegExp::Flags). */
export const REGEXP_FLAG_BITS: Readonly<Record<string, number>> = {
  g: 1,
  i: 2,
  m: 4,
  y: 8,
  u: 16,
  s: 32,
  l: 64,
  d: 128,
  v: 256,
};
/** Flag letters indexed by bit position, for the reader. */
export const REGEXP_FLAG_LETTERS = "gimyusldv";

/** View subtag for each typed array name (what its Symbol.toStringTag returns). */
export const VIEW_SUBTAGS: Readonly<Record<string, number>> = {
  Int8Array: 0x62, // b
  Uint8Array: 0x42, // B
  Uint8ClampedArray: 0x43, // C
  Int16Array: 0x77, // w
  Uint16Array: 0x57, // W
  Int32Array: 0x64, // d
  Uint32Array: 0x44, // D
  Float16Array: 0x68, // h
  Float32Array: 0x66, // f
  Float64Array: 0x46, // F
  BigInt64Array: 0x71, // q
  BigUint64Array: 0x51, // Q
};
/** View subtag '?': DataView. */
export const VIEW_DATA_VIEW = 0x3f;
