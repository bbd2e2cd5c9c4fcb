//! A watch cell for a small `Copy` value: the driver publishes (a channel's status, gathering done),
//! handles read the latest value and wait for a change. The same contract as the part of
//! `tokio::sync::watch` used here, in about 80 bytes instead of 344: tokio's keeps eight `Notify`s
//! to spread wake-ups of many receivers, and every connection had two (issue 15). Here each value
//! has a few receivers at most.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// The sender is gone: the value will not change again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

struct Shared<T> {
    value: Mutex<T>,
    /// Bumped by every send, after the value is stored.
    version: AtomicU64,
    sender_gone: AtomicBool,
    changed: Notify,
}

/// The publishing side (one, in the driver).
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A reading side; clones start from the version their original had seen.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
    seen: u64,
}

/// A cell holding `init`, and its two sides.
pub(crate) fn channel<T: Copy>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: Mutex::new(init),
        version: AtomicU64::new(0),
        sender_gone: AtomicBool::new(false),
        changed: Notify::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared, seen: 0 },
    )
}

impl<T: Copy> Shared<T> {
    fn get(&self) -> T {
        // A panic while the lock is held cannot leave a half-written `Copy` value.
        *self.value.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T: Copy> Sender<T> {
    /// Stores `value`, wakes every waiting receiver and returns the value it replaced.
    pub(crate) fn send_replace(&self, value: T) -> T {
        let old = {
            let mut slot = self.shared.value.lock().unwrap_or_else(PoisonError::into_inner);
            let old = *slot;
            *slot = value;
            self.shared.version.fetch_add(1, Ordering::AcqRel);
            old
        };
        self.shared.changed.notify_waiters();
        old
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.shared.sender_gone.store(true, Ordering::Release);
        self.shared.changed.notify_waiters();
    }
}

impl<T: Copy> Receiver<T> {
    /// The latest value.
    pub(crate) fn get(&self) -> T {
        self.shared.get()
    }

    /// The latest value, marked seen (a later [`Receiver::changed`] waits for a newer one).
    pub(crate) fn get_and_update(&mut self) -> T {
        // The version first: a send racing with this read is then reported again, never lost.
        self.seen = self.shared.version.load(Ordering::Acquire);
        self.shared.get()
    }

    /// Waits until a value newer than the last seen one is stored (and marks it seen); `Closed`
    /// once the sender is gone and nothing newer came.
    pub(crate) async fn changed(&mut self) -> Result<(), Closed> {
        loop {
            let notified = self.shared.changed.notified();
            tokio::pin!(notified);
            // Registered before the checks, so a send between them and the await is not missed.
            notified.as_mut().enable();
            let version = self.shared.version.load(Ordering::Acquire);
            if version != self.seen {
                self.seen = version;
                return Ok(());
            }
            if self.shared.sender_gone.load(Ordering::Acquire) {
                return Err(Closed);
            }
            notified.await;
        }
    }

    /// Waits until the value satisfies `ready` (checked now first); `Closed` if the sender goes
    /// first.
    pub(crate) async fn wait_for(&mut self, mut ready: impl FnMut(T) -> bool) -> Result<T, Closed> {
        loop {
            let value = self.get_and_update();
            if ready(value) {
                return Ok(value);
            }
            self.changed().await?;
        }
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        Receiver {
            shared: self.shared.clone(),
            seen: self.seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn it_is_much_smaller_than_tokios() {
        // What each connection (the gathering flag) and each channel (its status) allocates;
        // tokio's watch::Shared<ChannelStatus> is 328 bytes.
        let ours = std::mem::size_of::<Shared<crate::ChannelStatus>>();
        assert!(ours <= 96, "watch cell {ours} B");
    }

    #[tokio::test]
    async fn a_receiver_sees_each_change_and_then_the_end() {
        let (tx, mut rx) = channel(0u8);
        assert_eq!(rx.get_and_update(), 0);
        let waiter = tokio::spawn(async move {
            rx.changed().await.unwrap();
            let first = rx.get_and_update();
            let end = rx.changed().await;
            (first, end)
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert_eq!(tx.send_replace(7), 0);
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(tx);
        assert_eq!(waiter.await.unwrap(), (7, Err(Closed)));
    }

    #[tokio::test]
    async fn a_change_before_the_wait_is_not_lost() {
        let (tx, mut rx) = channel(false);
        let mut clone = rx.clone();
        tx.send_replace(true);
        // Both had seen version 0: the send counts as a change for each.
        rx.changed().await.unwrap();
        assert_eq!(clone.wait_for(|v| v).await, Ok(true));
        assert!(rx.get());
        // Seen now: with the sender gone the next wait ends.
        drop(tx);
        assert_eq!(rx.changed().await, Err(Closed));
        assert_eq!(clone.wait_for(|v| !v).await, Err(Closed));
    }
}
