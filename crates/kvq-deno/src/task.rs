//! Completes engine calls by calling JavaScript back, instead of parking a
//! thread of Deno's blocking pool per waiting call.
//!
//! Deno caps that pool at 32 threads: with one parked per idle listener or
//! watch stream, 32 of them stalled every other call of the process, kvq's
//! own writes included. Now a call's future is polled when it is woken, on
//! whichever thread wakes it (usually the engine's worker, which just sent
//! the answer), and once it is ready the reply goes to a thread-safe
//! callback (`Deno.UnsafeCallback.threadSafe`) that Deno queues onto the
//! event loop.
//!
//! Deno's thread-safe callback blocks the calling thread until JavaScript
//! has run it. So no engine thread calls it: every reply is handed to one
//! completion thread of this library, which alone waits on JavaScript. The
//! engine never waits for the event loop, and JavaScript, even inside a
//! synchronous call, never waits for that thread.

use std::ffi::c_void;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::mpsc;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::OnceLock;
use std::task::Context;
use std::task::Poll;
use std::task::Wake;
use std::task::Waker;

use crate::reply::Reply;

/// The JavaScript callback: `(call, reply)`; `reply` is freed by
/// JavaScript with `kvq_reply_free` after copying it.
pub type Complete = extern "C" fn(call: u32, reply: *const Reply);

type Call = Pin<Box<dyn Future<Output = Vec<u8>> + Send>>;

/// One call in flight: its future, and where its reply goes.
struct Task {
  future: Mutex<Option<Call>>,
  /// Set by every wake-up; cleared by the poll that handles it.
  woken: AtomicBool,
  call: u32,
  complete: Complete,
}

impl Wake for Task {
  fn wake(self: Arc<Self>) {
    self.run();
  }

  fn wake_by_ref(self: &Arc<Self>) {
    self.run();
  }
}

impl Task {
  /// Polls the future for every wake-up not yet handled. Whoever holds the
  /// lock polls; a wake-up arriving meanwhile is seen by the holder's check
  /// after unlocking, so none is lost.
  fn run(self: &Arc<Self>) {
    self.woken.store(true, SeqCst);
    loop {
      let Ok(mut slot) = self.future.try_lock() else {
        return;
      };
      while self.woken.swap(false, SeqCst) {
        let Some(future) = slot.as_mut() else {
          return;
        };
        let waker = Waker::from(self.clone());
        if let Poll::Ready(bytes) =
          future.as_mut().poll(&mut Context::from_waker(&waker))
        {
          *slot = None;
          drop(slot);
          deliver(self.complete, self.call, bytes);
          return;
        }
      }
      drop(slot);
      if !self.woken.load(SeqCst) {
        return;
      }
    }
  }
}

/// One reply on its way to JavaScript; the header pointer travels as an
/// address, since only the completion thread touches it.
struct Delivery {
  complete: Complete,
  call: u32,
  reply: usize,
}

/// Hands a reply to the completion thread (started on first use).
pub fn deliver(complete: Complete, call: u32, bytes: Vec<u8>) {
  deliver_handle(complete, call, bytes, std::ptr::null_mut());
}

/// Hands a reply carrying a new handle (an opened store) to the completion
/// thread. False if there is no completion thread: the reply is freed and
/// the handle is the caller's again.
pub fn deliver_handle(
  complete: Complete,
  call: u32,
  bytes: Vec<u8>,
  handle: *mut c_void,
) -> bool {
  static COMPLETER: OnceLock<Mutex<mpsc::Sender<Delivery>>> = OnceLock::new();
  let sender = COMPLETER.get_or_init(|| {
    let (tx, rx) = mpsc::channel::<Delivery>();
    // Dropped by a failed start, which closes the channel: every send then
    // fails and is freed below.
    let _ = std::thread::Builder::new()
      .name("kvq-deno-complete".into())
      .spawn(move || {
        // Replies to a program that awaits each call come in a steady
        // stream: linger for the next rather than sleep between them.
        let mut answered = false;
        while let Ok(d) = kvq_core::linger::recv(&rx, answered, None) {
          (d.complete)(d.call, d.reply as *const Reply);
          answered = true;
        }
      });
    Mutex::new(tx)
  });
  let reply = Reply::into_raw(bytes, handle) as usize;
  let sent = sender
    .lock()
    .unwrap_or_else(|p| p.into_inner())
    .send(Delivery {
      complete,
      call,
      reply,
    });
  if let Err(mpsc::SendError(d)) = sent {
    // No completion thread: free the reply rather than leak it.
    unsafe { Reply::free(d.reply as *const Reply) };
    return false;
  }
  true
}

/// Starts a call on the calling (JavaScript) thread: the first poll
/// decodes the request and hands it to the engine without waiting. If that
/// already answers (a file read, a malformed request), the reply is
/// returned; otherwise `None`, and the reply reaches `complete` later.
pub fn start(
  future: impl Future<Output = Vec<u8>> + Send + 'static,
  call: u32,
  complete: Complete,
) -> Option<Vec<u8>> {
  let mut future: Call = Box::pin(future);
  let task = Arc::new(Task {
    future: Mutex::new(None),
    woken: AtomicBool::new(false),
    call,
    complete,
  });
  let waker = Waker::from(task.clone());
  // Hold the slot while polling so a wake-up during this first poll waits
  // for the future to be stored, then polls it.
  let mut slot = task.future.lock().unwrap_or_else(|p| p.into_inner());
  match future.as_mut().poll(&mut Context::from_waker(&waker)) {
    Poll::Ready(bytes) => Some(bytes),
    Poll::Pending => {
      *slot = Some(future);
      drop(slot);
      if task.woken.load(SeqCst) {
        task.run();
      }
      None
    }
  }
}
