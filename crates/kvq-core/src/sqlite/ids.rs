//! Queue message ids that sort in enqueue order.
//!
//! Deno orders ready messages by `(ts, id)` and makes ids with UUID v4, so
//! messages due in the same millisecond come out in random order. kvq writes
//! UUID v7-shaped ids instead: 48 bits of milliseconds, then a per-process
//! counter, so ids made later compare greater as text. Deno never parses the
//! id, so these rows stay readable by Deno.

use std::sync::Mutex;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

struct State {
  last_ms: u64,
  counter: u64,
}

static STATE: Mutex<State> = Mutex::new(State {
  last_ms: 0,
  counter: 0,
});

/// A new id, strictly greater (as text) than every id this process made
/// before, even if the clock steps back.
pub fn next_id() -> String {
  let now = SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_millis() as u64)
    .unwrap_or(0);
  let mut state = STATE.lock().unwrap_or_else(|p| p.into_inner());
  if now > state.last_ms {
    state.last_ms = now;
    // Start each millisecond at a random point in the lower half of the
    // counter space, so two processes rarely collide and there is room to
    // count up.
    state.counter = rand::random::<u64>() >> 3;
  } else {
    state.counter += 1;
  }
  let ms = state.last_ms & 0xffff_ffff_ffff;
  let c = state.counter;
  // 8-4-4-4-12 hex: ms (48 bits) | version 7 + the counter's top 2 bits |
  // variant 0b10 + the next 14 bits | the low 48 bits. Fixed-width hex
  // compares as the numbers do.
  format!(
    "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
    ms >> 16,
    ms & 0xffff,
    (c >> 62) & 0x3,
    0x8000 | ((c >> 48) & 0x3fff),
    c & 0xffff_ffff_ffff
  )
}

#[cfg(test)]
mod tests {
  #[test]
  fn ids_increase_as_text() {
    let mut last = super::next_id();
    for _ in 0..100_000 {
      let id = super::next_id();
      assert!(id > last, "{id} <= {last}");
      assert_eq!(id.len(), 36);
      last = id;
    }
  }
}
