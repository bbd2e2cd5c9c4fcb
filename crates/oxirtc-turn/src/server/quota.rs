//! Allocation quotas (RFC 8656 §7.2 item 10): the counts they are checked against.
//!
//! A daemon that runs one sans-IO core per CPU must count a user's allocations across all of them,
//! or every core grants the full quota again. The core therefore asks a [`QuotaLedger`]; a single
//! core uses [`LocalQuotaLedger`], a multi-core runtime passes one shared ledger to every core
//! ([`crate::TurnServer::set_quota_ledger`]).

use std::collections::HashMap;

/// Where allocation counts live.
pub trait QuotaLedger: std::fmt::Debug + Send {
    /// Counts one more allocation of `user` and returns true, unless that would exceed
    /// `per_user` allocations for the user or `total` for the server (0 = no limit); then it
    /// changes nothing and returns false (the core answers 486).
    fn try_acquire(&mut self, user: &str, per_user: usize, total: usize) -> bool;
    /// One allocation of `user` ended (or was not created after all).
    fn release(&mut self, user: &str);
}

/// Counts of one core, in a map.
#[derive(Debug, Default)]
pub struct LocalQuotaLedger {
    per_user: HashMap<String, usize>,
    total: usize,
}

impl QuotaLedger for LocalQuotaLedger {
    fn try_acquire(&mut self, user: &str, per_user: usize, total: usize) -> bool {
        let mine = self.per_user.get(user).copied().unwrap_or(0);
        if (per_user > 0 && mine >= per_user) || (total > 0 && self.total >= total) {
            return false;
        }
        *self.per_user.entry(user.to_owned()).or_insert(0) += 1;
        self.total += 1;
        true
    }

    fn release(&mut self, user: &str) {
        if let Some(n) = self.per_user.get_mut(user) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_user.remove(user);
            }
            self.total = self.total.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_user_and_in_total_and_release_frees_both() {
        let mut l = LocalQuotaLedger::default();
        assert!(l.try_acquire("a", 2, 3));
        assert!(l.try_acquire("a", 2, 3));
        assert!(!l.try_acquire("a", 2, 3), "per-user limit");
        assert!(l.try_acquire("b", 2, 3));
        assert!(!l.try_acquire("c", 2, 3), "total limit");
        l.release("a");
        assert!(l.try_acquire("c", 2, 3));
        l.release("nobody");
        assert!(
            !l.try_acquire("a", 2, 3),
            "releasing an unknown user frees nothing"
        );
        assert!(l.try_acquire("a", 0, 0), "0 means no limit");
    }
}
