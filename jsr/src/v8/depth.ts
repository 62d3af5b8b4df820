/**
 * The one nesting limit of kvq's V8 codec, shared by the writer and the
 * reader.
 *
 * Both recurse once per nested object, array, Map, Set or Error, so a deep
 * enough value runs out of stack. Without a limit, whatever one runtime's
 * writer managed to write (Bun's stack is many times larger than V8's)
 * could be unreadable on another runtime, or on Deno itself, and break
 * every `get` and `list` that met it. So the writer refuses a value nested
 * deeper than {@link MAX_DEPTH} before anything is written, and the reader
 * refuses the same, whoever wrote it.
 *
 * The limit sits well below the shallowest reader: measured with the
 * nested shapes of each kind (tests-js/v8/depth_probe.ts), cold code (the
 * interpreter, whose frames are largest) on Node 20 and 24 and Deno reads
 * about 1,900 levels at worst and writes about 1,650, Bun many more, and
 * Deno 2.9.6's own reader stops near 2,600 (sparse arrays and objects).
 * Deno's own writer gives up earlier than the limit for some shapes (Error
 * causes), never later than its reader for others: kvq refuses only what
 * some reader could not read back, and always with the same error.
 *
 * @module
 */

/** The deepest nesting of objects, arrays, Maps, Sets and Errors allowed. */
export const MAX_DEPTH = 1000;

/** The writer's error for a value nested deeper than {@link MAX_DEPTH}. */
export function depthError(): RangeError {
  return new RangeError(
    `Value too deeply nested: more than ${MAX_DEPTH} levels of objects, arrays, maps, sets or errors`,
  );
}
