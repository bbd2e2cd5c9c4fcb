//! The messages `oxirtc dial` sends and how their echoes are checked; interop/peers/echo-check.mjs and
//! interop/peers/pion-peer/dial.go make the same messages and the same checks.
//!
//! Message `i`: text `ping:<i>:` + `x` × size (binary: `max(size, 16)` bytes), or with `sizes` exactly
//! `sizes[i % n]` bytes each (text cut to that length). Binary byte `j` is `(i*31 + j) & 255`.

use std::collections::HashMap;

use serde_json::{json, Value};

/// What to send.
#[derive(Debug)]
pub(crate) struct Messages {
    pub(crate) texts: Vec<String>,
    pub(crate) bins: Vec<Vec<u8>>,
}

impl Messages {
    /// `count` text messages (and as many binary ones if `binary`).
    pub(crate) fn new(count: usize, size: usize, sizes: &[usize], binary: bool) -> Self {
        let exact = |i: usize| (!sizes.is_empty()).then(|| sizes[i % sizes.len()]);
        let texts = (0..count)
            .map(|i| {
                let text = format!("ping:{i}:{}", "x".repeat(exact(i).unwrap_or(size)));
                match exact(i) {
                    Some(n) => text[..n].to_owned(), // ASCII: a byte is a char
                    None => text,
                }
            })
            .collect();
        let bins = if binary {
            (0..count)
                .map(|i| {
                    let len = exact(i).unwrap_or(size.max(16));
                    (0..len).map(|j| ((i * 31 + j) & 255) as u8).collect()
                })
                .collect()
        } else {
            Vec::new()
        };
        Messages { texts, bins }
    }

    fn total(&self) -> usize {
        self.texts.len() + self.bins.len()
    }
}

/// Counts echoes against what was sent: in order per kind on an ordered channel, as a multiset on
/// an unordered one; a partially reliable channel passes with at least 95 % back.
#[derive(Debug)]
pub(crate) struct EchoCheck<'a> {
    sent: &'a Messages,
    ordered: bool,
    partial: bool,
    /// Not yet echoed, per kind (`[false]` text, `[true]` binary): content → count.
    pending: [HashMap<&'a [u8], usize>; 2],
    echoed: usize,
    binary_echoed: usize,
    mismatched: usize,
}

impl<'a> EchoCheck<'a> {
    pub(crate) fn new(sent: &'a Messages, ordered: bool, partial: bool) -> Self {
        let mut pending = [HashMap::new(), HashMap::new()];
        for t in &sent.texts {
            *pending[0].entry(t.as_bytes()).or_insert(0) += 1;
        }
        for b in &sent.bins {
            *pending[1].entry(b.as_slice()).or_insert(0) += 1;
        }
        EchoCheck {
            sent,
            // What a partially reliable channel drops is gone: compare as a set even if ordered.
            ordered: ordered && !partial,
            partial,
            pending,
            echoed: 0,
            binary_echoed: 0,
            mismatched: 0,
        }
    }

    /// One echoed message.
    pub(crate) fn add(&mut self, binary: bool, data: &[u8]) {
        let expected = if self.ordered {
            if binary {
                self.sent.bins.get(self.binary_echoed).map(Vec::as_slice) == Some(data)
            } else {
                self.sent.texts.get(self.echoed).map(String::as_bytes) == Some(data)
            }
        } else {
            match self.pending[usize::from(binary)].get_mut(data) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    true
                }
                _ => false,
            }
        };
        match (expected, binary) {
            (true, false) => self.echoed += 1,
            (true, true) => self.binary_echoed += 1,
            (false, _) => self.mismatched += 1,
        }
    }

    /// Every message came back.
    pub(crate) fn complete(&self) -> bool {
        self.echoed == self.sent.texts.len() && self.binary_echoed == self.sent.bins.len()
    }

    /// All back (partially reliable: at least 95 %), nothing corrupted or out of order.
    pub(crate) fn passed(&self) -> bool {
        if self.mismatched > 0 {
            return false;
        }
        if self.partial {
            (self.echoed + self.binary_echoed) * 100 >= self.sent.total() * 95
        } else {
            self.complete()
        }
    }

    pub(crate) fn report(&self) -> Value {
        json!({
            "sent": self.sent.texts.len(), "echoed": self.echoed,
            "binarySent": self.sent.bins.len(), "binaryEchoed": self.binary_echoed,
            "mismatched": self.mismatched,
            "allEchoed": self.complete(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_sizes_cycle_and_cut_the_text() {
        let m = Messages::new(4, 0, &[0, 5, 262_144], true);
        let lens: Vec<usize> = m.texts.iter().map(String::len).collect();
        assert_eq!(lens, [0, 5, 262_144, 0]);
        assert_eq!(m.texts[1], "ping:");
        assert_eq!(m.bins[2].len(), 262_144);
        assert_eq!(m.bins[1], [31, 32, 33, 34, 35]);
        let legacy = Messages::new(2, 3, &[], true);
        assert_eq!(legacy.texts, ["ping:0:xxx", "ping:1:xxx"]);
        assert_eq!(legacy.bins[0].len(), 16);
    }

    #[test]
    fn ordered_needs_order_unordered_needs_all_partial_needs_95_percent() {
        let m = Messages::new(20, 0, &[], false);
        let mut ordered = EchoCheck::new(&m, true, false);
        ordered.add(false, m.texts[1].as_bytes());
        assert!(!ordered.passed(), "out of order on an ordered channel");

        let mut unordered = EchoCheck::new(&m, false, false);
        for t in m.texts.iter().rev() {
            unordered.add(false, t.as_bytes());
        }
        assert!(unordered.passed());
        unordered.add(false, m.texts[0].as_bytes());
        assert!(!unordered.passed(), "a duplicate is a mismatch");

        let mut partial = EchoCheck::new(&m, true, true);
        for t in &m.texts[1..] {
            partial.add(false, t.as_bytes());
        }
        assert!(partial.passed(), "19 of 20 is 95 %");
        let mut lossy = EchoCheck::new(&m, true, true);
        for t in &m.texts[2..] {
            lossy.add(false, t.as_bytes());
        }
        assert!(!lossy.passed(), "18 of 20 is under 95 %");
        let mut wrong_kind = EchoCheck::new(&m, false, false);
        wrong_kind.add(true, m.texts[0].as_bytes());
        assert_eq!(wrong_kind.mismatched, 1, "text echoed as binary");
    }
}
