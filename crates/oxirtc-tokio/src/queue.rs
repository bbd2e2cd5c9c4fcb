//! A small unbounded queue between handles and the driver, used where tokio's `mpsc` cost too much
//! memory per connection: its first block of 32 slots and its cache-padded channel state are
//! allocated up front (2 KB for the command queue, 1.8 KB per channel's message queue), while most
//! connections sit idle with nothing queued. Here the slots are a `VecDeque` that grows with what is
//! queued, and an empty queue gives its memory back.
//!
//! Many senders, one receiver; `recv` waits on a [`Notify`]. Like `mpsc`: `send` fails once the
//! receiver is dropped or closed, and `recv` returns `None` once every sender is gone and the queue
//! is empty. A [`WeakSender`] does not keep the queue open. [`Sender::send_evicting`] bounds a queue
//! by taking out the oldest item the caller says may go.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::Notify;

/// Capacity above which a queue that ran empty is shrunk: a burst does not leave its peak behind.
const KEEP_CAPACITY: usize = 64;

struct State<T> {
    items: VecDeque<T>,
    senders: usize,
    receiver_closed: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Wakes the receiver: an item arrived or the last sender left.
    ready: Notify,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        // A panic while the lock is held cannot leave the queue inconsistent (every critical section
        // is one VecDeque operation or a counter update), so a poisoned lock is used as it is.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A new queue.
pub(crate) fn queue<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            items: VecDeque::new(),
            senders: 1,
            receiver_closed: false,
        }),
        ready: Notify::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

/// The sending half; clone it for more senders.
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Sender<T> {
    /// Queues `item`; gives it back if the receiver is gone or closed.
    pub(crate) fn send(&self, item: T) -> Result<(), T> {
        let was_empty = {
            let mut state = self.shared.lock();
            if state.receiver_closed {
                return Err(item);
            }
            state.items.push_back(item);
            state.items.len() == 1
        };
        // The receiver only waits after it saw the queue empty (under the lock), so only the send
        // that makes it non-empty needs to wake it: a burst costs one wake-up, not one per item.
        if was_empty {
            self.shared.ready.notify_one();
        }
        Ok(())
    }

    /// Queues `item` in a queue meant to hold at most `capacity` items: when that many are queued,
    /// the oldest item `evictable` accepts is taken out first and returned, for the caller to count
    /// and drop (outside the lock: dropping one may touch another queue). When none may go, `item`
    /// is queued beyond `capacity`: the caller bounds what it never evicts. Gives `item` back if the
    /// receiver is gone or closed.
    pub(crate) fn send_evicting(
        &self,
        item: T,
        capacity: usize,
        evictable: impl Fn(&T) -> bool,
    ) -> Result<Option<T>, T> {
        let (was_empty, evicted) = {
            let mut state = self.shared.lock();
            if state.receiver_closed {
                return Err(item);
            }
            let evicted = if state.items.len() >= capacity {
                let oldest = state.items.iter().position(&evictable);
                oldest.and_then(|at| state.items.remove(at))
            } else {
                None
            };
            state.items.push_back(item);
            (state.items.len() == 1, evicted)
        };
        if was_empty {
            self.shared.ready.notify_one();
        }
        Ok(evicted)
    }

    /// A handle that does not keep the queue open.
    pub(crate) fn downgrade(&self) -> WeakSender<T> {
        WeakSender {
            shared: Arc::downgrade(&self.shared),
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut state = self.shared.lock();
            state.senders -= 1;
            state.senders == 0
        };
        if last {
            self.shared.ready.notify_one();
        }
    }
}

/// A sender that does not count: [`WeakSender::upgrade`] fails once every [`Sender`] is gone.
pub(crate) struct WeakSender<T> {
    shared: Weak<Shared<T>>,
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> WeakSender<T> {
    /// A counting sender, if any is still alive.
    pub(crate) fn upgrade(&self) -> Option<Sender<T>> {
        let shared = self.shared.upgrade()?;
        {
            let mut state = shared.lock();
            if state.senders == 0 {
                return None;
            }
            state.senders += 1;
        }
        Some(Sender { shared })
    }
}

/// Why [`Receiver::try_recv`] returned nothing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TryRecvError {
    /// Nothing queued right now.
    Empty,
    /// Nothing queued and every sender is gone.
    Disconnected,
}

/// The receiving half.
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

impl<T> Receiver<T> {
    /// The next item without waiting.
    pub(crate) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        self.shared.pop()
    }

    /// The next item; `None` once every sender is gone and nothing is left. Cancel-safe: an item is
    /// only taken when this resolves.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        let shared = &*self.shared;
        loop {
            let ready = shared.ready.notified();
            tokio::pin!(ready);
            // Registered before the check, so an item sent between the check and the await wakes us.
            ready.as_mut().enable();
            match shared.pop() {
                Ok(item) => return Some(item),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => ready.await,
            }
        }
    }

    /// Refuses further sends; what is queued can still be taken.
    pub(crate) fn close(&mut self) {
        self.shared.lock().receiver_closed = true;
    }
}

impl<T> Shared<T> {
    fn pop(&self) -> Result<T, TryRecvError> {
        let mut state = self.lock();
        match state.items.pop_front() {
            Some(item) => {
                if state.items.is_empty() && state.items.capacity() > KEEP_CAPACITY {
                    state.items = VecDeque::new();
                }
                Ok(item)
            }
            None if state.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }
}

impl<T> Drop for Receiver<T> {
    /// Closes the queue and drops what is still queued, as `mpsc` does: a reply channel inside a
    /// queued command then tells its waiting caller that nobody will answer. The items are dropped
    /// after the lock is released (dropping one may touch another queue).
    fn drop(&mut self) {
        let left = {
            let mut state = self.shared.lock();
            state.receiver_closed = true;
            std::mem::take(&mut state.items)
        };
        drop(left);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn items_arrive_in_order_and_the_end_is_seen() {
        let (tx, mut rx) = queue();
        let tx2 = tx.clone();
        for i in 0..100 {
            tx.send(i).unwrap();
        }
        tx2.send(100).unwrap();
        drop(tx);
        for i in 0..=100 {
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx2);
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_by_a_send_from_another_task() {
        let (tx, mut rx) = queue();
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        tx.send(7u32).unwrap();
        assert_eq!(waiter.await.unwrap(), Some(7));
    }

    #[tokio::test]
    async fn dropping_the_last_sender_wakes_a_waiting_receiver() {
        let (tx, mut rx) = queue::<u32>();
        let waiter = tokio::spawn(async move { rx.recv().await });
        tokio::task::yield_now().await;
        drop(tx);
        assert_eq!(waiter.await.unwrap(), None);
    }

    #[test]
    fn a_closed_receiver_refuses_sends_and_keeps_what_was_queued() {
        let (tx, mut rx) = queue();
        tx.send(1).unwrap();
        rx.close();
        assert_eq!(tx.send(2), Err(2));
        assert_eq!(rx.try_recv(), Ok(1));
        drop(rx);
        assert_eq!(tx.send(3), Err(3));
    }

    /// A caller waiting for the reply to a queued request learns that none will come when the
    /// receiver goes away with the request still queued (the driver ended first).
    #[tokio::test]
    async fn dropping_the_receiver_drops_what_is_queued() {
        let (tx, rx) = queue::<tokio::sync::oneshot::Sender<()>>();
        let (reply_tx, reply_rx) = tokio::sync::oneshot::channel();
        tx.send(reply_tx).unwrap();
        drop(rx);
        assert!(reply_rx.await.is_err());
    }

    #[test]
    fn a_weak_sender_does_not_keep_the_queue_open() {
        let (tx, mut rx) = queue::<u8>();
        let weak = tx.downgrade();
        let strong = weak.upgrade().unwrap();
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(strong);
        assert!(weak.upgrade().is_none());
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    }

    #[test]
    fn an_empty_queue_gives_back_a_burst_and_allocates_nothing_up_front() {
        let (tx, mut rx) = queue::<u64>();
        assert_eq!(rx.shared.lock().items.capacity(), 0);
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
        while rx.try_recv().is_ok() {}
        assert!(rx.shared.lock().items.capacity() <= KEEP_CAPACITY);
    }

    #[test]
    fn a_full_queue_evicts_the_oldest_evictable_item_and_keeps_the_others() {
        let (tx, mut rx) = queue::<u32>();
        let odd = |i: &u32| i % 2 == 1;
        for i in 0..4 {
            assert_eq!(tx.send_evicting(i, 4, odd), Ok(None));
        }
        // Full: 1 is the oldest odd item.
        assert_eq!(tx.send_evicting(4, 4, odd), Ok(Some(1)));
        assert_eq!(tx.send_evicting(6, 4, odd), Ok(Some(3)));
        // Nothing evictable left: queued beyond the capacity.
        assert_eq!(tx.send_evicting(8, 4, odd), Ok(None));
        let mut got = Vec::new();
        while let Ok(i) = rx.try_recv() {
            got.push(i);
        }
        assert_eq!(got, [0, 2, 4, 6, 8]);
        rx.close();
        assert_eq!(tx.send_evicting(9, 4, odd), Err(9));
    }

    /// Many sends from another thread, received as they come: nothing lost, nothing reordered.
    #[test]
    fn a_sender_thread_and_a_receiver_task_agree() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let (tx, mut rx) = queue::<u32>();
        let producer = std::thread::spawn(move || {
            for i in 0..100_000 {
                tx.send(i).unwrap();
            }
        });
        let got = rt.block_on(async move {
            let mut next = 0;
            while let Some(i) = rx.recv().await {
                assert_eq!(i, next);
                next += 1;
            }
            next
        });
        producer.join().unwrap();
        assert_eq!(got, 100_000);
    }
}
