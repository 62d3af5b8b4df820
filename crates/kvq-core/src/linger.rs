//! Receiving from a channel without paying a thread wake-up for a message
//! that is about to arrive.
//!
//! A thread blocked on a channel costs ~30 us to wake on a virtual machine,
//! a fifth of an fsync'd commit. Where the next message usually follows the
//! last answer closely (a caller awaiting each write), the receiver first
//! looks for it for a short while, yielding the core between looks so a
//! busy machine loses little, and only then blocks. Used by the engine's
//! worker and by the Deno binding's completion thread.

use std::sync::mpsc::Receiver;
use std::sync::mpsc::RecvTimeoutError;
use std::sync::mpsc::TryRecvError;
use std::time::Duration;
use std::time::Instant;

/// How long a receiver that just answered looks for the next message
/// before it blocks: a caller that awaits each write sends the next one
/// 60-100 us after its answer (its own wake-up plus JavaScript).
pub const LINGER: Duration = Duration::from_micros(300);

/// Receives the next message, waiting until `deadline` at most (forever if
/// `None`). With `linger`, looks for it for up to [`LINGER`] first.
pub fn recv<T>(
  rx: &Receiver<T>,
  linger: bool,
  deadline: Option<Instant>,
) -> Result<T, RecvTimeoutError> {
  if linger {
    let mut until = Instant::now() + LINGER;
    if let Some(deadline) = deadline {
      until = until.min(deadline);
    }
    loop {
      match rx.try_recv() {
        Ok(message) => return Ok(message),
        Err(TryRecvError::Disconnected) => {
          return Err(RecvTimeoutError::Disconnected)
        }
        Err(TryRecvError::Empty) if Instant::now() >= until => break,
        Err(TryRecvError::Empty) => std::thread::yield_now(),
      }
    }
  }
  match deadline {
    Some(at) => rx.recv_timeout(at.saturating_duration_since(Instant::now())),
    None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::mpsc;

  #[test]
  fn returns_a_message_sent_a_moment_later() {
    let (tx, rx) = mpsc::channel();
    let sender = std::thread::spawn(move || {
      std::thread::sleep(Duration::from_micros(50));
      tx.send(7).ok();
    });
    assert_eq!(recv(&rx, true, None), Ok(7));
    sender.join().ok();
  }

  #[test]
  fn a_deadline_inside_the_linger_ends_it() {
    let (_tx, rx) = mpsc::channel::<u8>();
    // Lingering past the deadline would take LINGER every time; a busy
    // machine may delay many attempts (five all failed once, under a load
    // of 4 on 2 cores), not all of a hundred.
    let mut shortest = Duration::MAX;
    for _ in 0..100 {
      let started = Instant::now();
      let deadline = started + Duration::from_micros(20);
      assert_eq!(
        recv(&rx, true, Some(deadline)),
        Err(RecvTimeoutError::Timeout)
      );
      assert!(Instant::now() >= deadline);
      shortest = shortest.min(started.elapsed());
    }
    assert!(shortest < LINGER, "waited {shortest:?}");
  }

  #[test]
  fn times_out_at_the_deadline_and_sees_a_hang_up() {
    let (tx, rx) = mpsc::channel::<u8>();
    let deadline = Instant::now() + Duration::from_millis(5);
    assert_eq!(
      recv(&rx, true, Some(deadline)),
      Err(RecvTimeoutError::Timeout)
    );
    assert!(Instant::now() >= deadline);
    drop(tx);
    assert_eq!(recv(&rx, true, None), Err(RecvTimeoutError::Disconnected));
    assert_eq!(recv(&rx, false, None), Err(RecvTimeoutError::Disconnected));
  }
}
