//! One allocation's state: permissions (RFC 8656 §9), channels (§12), lifetime (§6), bandwidth quota.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use oxirtc_stun::TransactionId;

use crate::ChannelNumber;

/// RFC 8656 §9: the Permission Lifetime MUST be 300 seconds.
pub const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// RFC 8656 §12: a channel binding lasts 10 minutes unless refreshed.
pub const CHANNEL_LIFETIME: Duration = Duration::from_secs(600);

/// The transport between client and server (the 5-tuple's protocol, RFC 8656 §2).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP (or TLS over TCP: the runtime strips TLS).
    Tcp,
}

/// The 5-tuple that identifies an allocation (RFC 8656 §2): client address, server address, protocol.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct FiveTuple {
    /// The client's address as the server sees it.
    pub client: SocketAddr,
    /// The server address the client talks to.
    pub server: SocketAddr,
    /// UDP or TCP.
    pub transport: Transport,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Channel {
    pub number: ChannelNumber,
    pub peer: SocketAddr,
    pub expires: Instant,
}

/// A token bucket of bytes per second, one second deep.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bucket {
    tokens: u64,
    last: Instant,
}

impl Bucket {
    fn new(now: Instant, rate: u64) -> Self {
        Bucket {
            tokens: rate,
            last: now,
        }
    }

    /// Takes `n` bytes if the budget allows (rate 0 = unlimited).
    pub(crate) fn take(&mut self, now: Instant, rate: u64, n: usize) -> bool {
        if rate == 0 {
            return true;
        }
        let elapsed = now.saturating_duration_since(self.last);
        if !elapsed.is_zero() {
            let refill =
                (elapsed.as_micros().min(u128::from(u64::MAX)) as u64).saturating_mul(rate) / 1_000_000;
            self.tokens = self.tokens.saturating_add(refill).min(rate);
            self.last = now;
        }
        let n = n as u64;
        if self.tokens >= n {
            self.tokens -= n;
            true
        } else {
            false
        }
    }
}

/// One allocation (RFC 8656 §6).
#[derive(Debug)]
pub(crate) struct Allocation {
    pub tuple: FiveTuple,
    pub relay: SocketAddr,
    pub username: String,
    pub expires: Instant,
    /// The Allocate request that created it: a retransmission gets the same success (RFC 8656 §7.2).
    pub allocate_tid: TransactionId,
    pub permissions: Vec<(IpAddr, Instant)>,
    pub channels: Vec<Channel>,
    pub to_peer: Bucket,
    pub to_client: Bucket,
}

impl Allocation {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        now: Instant,
        tuple: FiveTuple,
        relay: SocketAddr,
        username: String,
        lifetime: Duration,
        allocate_tid: TransactionId,
        rate: u64,
    ) -> Self {
        Allocation {
            tuple,
            relay,
            username,
            expires: now + lifetime,
            allocate_tid,
            permissions: Vec::new(),
            channels: Vec::new(),
            to_peer: Bucket::new(now, rate),
            to_client: Bucket::new(now, rate),
        }
    }

    /// RFC 8656 §9: only the IP is compared, never the port.
    pub(crate) fn has_permission(&self, now: Instant, ip: IpAddr) -> bool {
        self.permissions.iter().any(|&(p, exp)| p == ip && exp > now)
    }

    /// Installs or refreshes a permission; `false` if the cap is reached (508).
    pub(crate) fn install_permission(&mut self, now: Instant, ip: IpAddr, cap: usize) -> bool {
        let expires = now + PERMISSION_LIFETIME;
        if let Some(p) = self.permissions.iter_mut().find(|(p, _)| *p == ip) {
            p.1 = expires;
            return true;
        }
        self.permissions.retain(|&(_, exp)| exp > now);
        if self.permissions.len() >= cap {
            return false;
        }
        self.permissions.push((ip, expires));
        true
    }

    /// Whether `(number, peer)` could be bound (RFC 8656 §12.2): `Err(400)` on a conflict.
    pub(crate) fn channel_conflict(&self, now: Instant, number: ChannelNumber, peer: SocketAddr) -> bool {
        self.channels
            .iter()
            .filter(|c| c.expires > now)
            .any(|c| (c.number == number) != (c.peer == peer))
    }

    /// Binds or refreshes; `false` if the cap is reached (508). Check [`Self::channel_conflict`] first.
    pub(crate) fn bind_channel(
        &mut self,
        now: Instant,
        number: ChannelNumber,
        peer: SocketAddr,
        cap: usize,
    ) -> bool {
        let expires = now + CHANNEL_LIFETIME;
        if let Some(c) = self.channels.iter_mut().find(|c| c.number == number) {
            c.peer = peer;
            c.expires = expires;
            return true;
        }
        self.channels.retain(|c| c.expires > now);
        if self.channels.len() >= cap {
            return false;
        }
        self.channels.push(Channel {
            number,
            peer,
            expires,
        });
        true
    }

    pub(crate) fn channel_by_number(&self, now: Instant, number: ChannelNumber) -> Option<SocketAddr> {
        self.channels
            .iter()
            .find(|c| c.number == number && c.expires > now)
            .map(|c| c.peer)
    }

    pub(crate) fn channel_by_peer(&self, now: Instant, peer: SocketAddr) -> Option<ChannelNumber> {
        self.channels
            .iter()
            .find(|c| c.peer == peer && c.expires > now)
            .map(|c| c.number)
    }

    /// Drops expired permissions and channels (the sweep).
    pub(crate) fn expire_children(&mut self, now: Instant) {
        self.permissions.retain(|&(_, exp)| exp > now);
        self.channels.retain(|c| c.expires > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[allow(clippy::disallowed_methods)] // the test owns the clock
    fn bucket_limits_and_refills() {
        let t0 = Instant::now();
        let mut b = Bucket::new(t0, 1000);
        assert!(b.take(t0, 1000, 600));
        assert!(!b.take(t0, 1000, 600));
        assert!(b.take(t0 + Duration::from_millis(200), 1000, 600));
        assert!(!b.take(t0 + Duration::from_millis(200), 1000, 1));
        assert!(Bucket::new(t0, 0).take(t0, 0, 1 << 30));
    }
}
