//! One allocation-quota ledger for every core of the daemon: `--user-quota` and `--max-allocations`
//! are the server's limits, not each core's (with a ledger per core, two cores granted a user twice
//! the quota).

use std::sync::{Arc, Mutex, PoisonError};

use oxirtc_turn::{LocalQuotaLedger, QuotaLedger};

/// A [`LocalQuotaLedger`] behind a mutex, cloned into each core. Taken once per Allocate and once per
/// deleted allocation, never on the relay path.
#[derive(Clone, Debug, Default)]
pub(crate) struct SharedQuotaLedger(Arc<Mutex<LocalQuotaLedger>>);

impl QuotaLedger for SharedQuotaLedger {
    fn try_acquire(&mut self, user: &str, per_user: usize, total: usize) -> bool {
        // A panic while holding the lock cannot leave the counts half-updated: use them anyway.
        let mut ledger = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        ledger.try_acquire(user, per_user, total)
    }

    fn release(&mut self, user: &str) {
        let mut ledger = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        ledger.release(user);
    }
}
