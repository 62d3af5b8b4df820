//! How a reply crosses to JavaScript: a boxed `#[repr(C)]` header over the
//! engine's reply bytes, which JavaScript copies out and then frees with
//! `kvq_reply_free`.
//!
//! deno_bindgen 0.9 can return numbers, raw pointers and opaque structs, but
//! not a byte buffer, and it has no error channel. So every symbol returns a
//! pointer to a [`Reply`]: the wire reply (status byte first, docs/wire.md)
//! plus, for `kvq_open` and `kvq_watch`, the new handle. The engine's `Vec`
//! is handed over as it is (no copy on this side).

use std::ffi::c_void;
use std::mem::ManuallyDrop;
use std::panic::AssertUnwindSafe;
use std::ptr;

use kvq_core::wire;
use kvq_core::Error;

/// The header JavaScript reads (jsr/ffi/reply.ts): the reply bytes at
/// offset 0 (pointer) and 8 (length), a handle or null at offset 24.
#[repr(C)]
pub struct Reply {
  data: *mut u8,
  len: usize,
  cap: usize,
  handle: *mut c_void,
}

impl Reply {
  /// Boxes `bytes` (and `handle`) for JavaScript.
  pub fn into_raw(bytes: Vec<u8>, handle: *mut c_void) -> *const Reply {
    let mut bytes = ManuallyDrop::new(bytes);
    Box::into_raw(Box::new(Reply {
      data: bytes.as_mut_ptr(),
      len: bytes.len(),
      cap: bytes.capacity(),
      handle,
    }))
  }

  /// An error reply without a handle.
  pub fn error(e: &Error) -> *const Reply {
    Reply::into_raw(wire::error_reply(e), ptr::null_mut())
  }

  /// Frees a reply made by [`Reply::into_raw`] (not its handle).
  ///
  /// # Safety
  /// `reply` is null or came from [`Reply::into_raw`] and is freed once.
  pub unsafe fn free(reply: *const Reply) {
    if reply.is_null() {
      return;
    }
    // SAFETY: the caller's contract; the Vec parts are the ones we took.
    let reply = unsafe { Box::from_raw(reply as *mut Reply) };
    drop(unsafe { Vec::from_raw_parts(reply.data, reply.len, reply.cap) });
  }
}

/// Runs one symbol's body; a panic becomes a `KVQ_INTERNAL` error reply
/// instead of unwinding into Deno (which would abort the process).
pub fn guard(body: impl FnOnce() -> *const Reply) -> *const Reply {
  std::panic::catch_unwind(AssertUnwindSafe(body))
    .unwrap_or_else(|p| Reply::error(&Error::from_panic(p.as_ref())))
}

/// Runs a symbol that returns nothing; a panic is swallowed (the default
/// hook has already printed it) rather than crossing the boundary.
pub fn guard_void(body: impl FnOnce()) {
  let _ = std::panic::catch_unwind(AssertUnwindSafe(body));
}
