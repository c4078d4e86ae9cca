//! Cancellation: GitHub cancels a job with SIGINT, then SIGTERM, then SIGKILL a few seconds
//! later. The first SIGINT or SIGTERM is recorded here (handled also as PID 1, where an
//! unhandled signal is ignored); every write checks it when its turn to be sent comes, so none
//! goes out after it, and the run winds down and reports what it did.

use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::Notify;

/// How long the writes under way may still take after the signal.
pub const GRACE: Duration = Duration::from_secs(5);

/// The number of the first signal received; 0 before any.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
static CANCELLED: Notify = Notify::const_new();

/// The signal that cancelled the run, if one did.
pub fn received() -> Option<i32> {
    Some(RECEIVED.load(Ordering::SeqCst)).filter(|&number| number != 0)
}

/// `SIGINT` or `SIGTERM` (or the number), for messages.
pub fn name(number: i32) -> String {
    match number {
        2 => "SIGINT".to_string(),
        15 => "SIGTERM".to_string(),
        other => format!("signal {other}"),
    }
}

/// Records the first cancelling signal and wakes whoever waits for it.
pub fn cancel(number: i32) {
    if RECEIVED
        .compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
    {
        CANCELLED.notify_waiters();
    }
}

/// Resolves once the run is cancelled.
pub async fn cancelled() {
    loop {
        // Made before the check, so a cancel between the two is not missed.
        let notified = CANCELLED.notified();
        if received().is_some() {
            return;
        }
        notified.await;
    }
}

/// Resolves [`GRACE`] after the run is cancelled.
pub async fn grace_over() {
    cancelled().await;
    tokio::time::sleep(GRACE).await;
}

/// The handlers of SIGINT and SIGTERM, installed (inside a tokio runtime) when made.
pub struct Handlers {
    interrupt: Signal,
    terminate: Signal,
}

impl Handlers {
    pub fn install() -> std::io::Result<Handlers> {
        Ok(Handlers {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Waits for the first signal, records it (later ones change nothing) and says so in the
    /// log at once.
    pub async fn listen(mut self) {
        let number = tokio::select! {
            _ = self.interrupt.recv() => 2,
            _ = self.terminate.recv() => 15,
        };
        cancel(number);
        crate::runner::commands::record(&format!(
            "Cancelled by {}: no new request is sent; the requests under way get at most {} s",
            name(number),
            GRACE.as_secs()
        ));
    }
}
