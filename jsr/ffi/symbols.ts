/**
 * The symbols of kvq's FFI library (crates/kvq-deno), as `Deno.dlopen`
 * needs them. This is the table deno_bindgen 0.9 generates for the crate,
 * kept here by hand because the generated module embeds the absolute path
 * of the library it was built from; `crates/kvq-deno/bindgen.sh` generates
 * it afresh and fails if this table differs.
 *
 * Every symbol returns a pointer to a reply header (jsr/ffi/reply.ts) or
 * nothing. A `"buffer", "usize"` pair is one `&[u8]` argument. No symbol
 * waits, `kvq_open` included: a call the engine may answer later takes a
 * call id and the completion callback (the last `u32` and `pointer`) and
 * returns an empty reply, and the answer comes to that callback
 * (jsr/ffi/transport.ts), with the new handle in the reply header for open
 * and watch.
 *
 * @module
 */

/** The library's symbol table. */
export const symbols = {
  kvq_open: {
    parameters: ["buffer", "usize", "buffer", "usize", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_close: { parameters: ["pointer"], result: "void", nonblocking: false },
  kvq_store_free: {
    parameters: ["pointer"],
    result: "void",
    nonblocking: false,
  },
  kvq_snapshot_read: {
    parameters: ["pointer", "buffer", "usize", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_atomic_write: {
    parameters: ["pointer", "buffer", "usize", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_atomic_write_many: {
    parameters: ["pointer", "buffer", "usize", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_dequeue: {
    parameters: ["pointer", "u32", "u32", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_dequeue_named: {
    parameters: [
      "pointer",
      "u32",
      "u32",
      "buffer",
      "usize",
      "u32",
      "u32",
      "pointer",
    ],
    result: "pointer",
    nonblocking: false,
  },
  kvq_write_named: {
    parameters: ["pointer", "buffer", "usize", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_cancel_dequeue: {
    parameters: ["pointer", "u32"],
    result: "void",
    nonblocking: false,
  },
  kvq_finish: {
    parameters: ["pointer", "buffer", "usize", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_inspect: {
    parameters: ["pointer", "buffer", "usize", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_watch: {
    parameters: ["pointer", "buffer", "usize", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_watch_next: {
    parameters: ["pointer", "u32", "pointer"],
    result: "pointer",
    nonblocking: false,
  },
  kvq_watch_close: {
    parameters: ["pointer"],
    result: "void",
    nonblocking: false,
  },
  kvq_watch_free: {
    parameters: ["pointer"],
    result: "void",
    nonblocking: false,
  },
  kvq_reply_free: {
    parameters: ["pointer"],
    result: "void",
    nonblocking: false,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded library's callable symbols. */
export type KvqSymbols = Deno.DynamicLibrary<typeof symbols>["symbols"];
