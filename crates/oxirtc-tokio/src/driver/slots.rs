//! The driver's per-channel state by channel id: a vector sorted by id. A `HashMap` allocated four
//! buckets (about 370 bytes) for the one channel most connections have (issue 15); ids come in
//! increasing order, so an insert is a push, and a lookup is a binary search over a few entries.

use oxirtc::ChannelId;

use super::ChannelSlot;

#[derive(Default)]
pub(super) struct Slots(Vec<(ChannelId, ChannelSlot)>);

impl Slots {
    fn position(&self, id: ChannelId) -> Result<usize, usize> {
        self.0.binary_search_by_key(&id, |(k, _)| *k)
    }

    /// Inserts or replaces the slot of `id`.
    pub(super) fn insert(&mut self, id: ChannelId, slot: ChannelSlot) {
        match self.position(id) {
            Ok(i) => self.0[i].1 = slot,
            Err(i) => {
                // Exact growth for the first few (most connections have one or two channels),
                // amortized doubling beyond.
                if self.0.len() < 4 {
                    self.0.reserve_exact(1);
                }
                self.0.insert(i, (id, slot));
            }
        }
    }

    /// Removes and returns the slot of `id`.
    pub(super) fn remove(&mut self, id: ChannelId) -> Option<ChannelSlot> {
        let i = self.position(id).ok()?;
        let (_, slot) = self.0.remove(i);
        if self.0.is_empty() {
            self.0 = Vec::new(); // no channel left: no table
        }
        Some(slot)
    }

    pub(super) fn get(&self, id: ChannelId) -> Option<&ChannelSlot> {
        let i = self.position(id).ok()?;
        self.0.get(i).map(|(_, s)| s)
    }

    pub(super) fn get_mut(&mut self, id: ChannelId) -> Option<&mut ChannelSlot> {
        let i = self.position(id).ok()?;
        self.0.get_mut(i).map(|(_, s)| s)
    }

    /// Every slot with its id, in id order.
    pub(super) fn iter_mut(&mut self) -> impl Iterator<Item = (ChannelId, &mut ChannelSlot)> + '_ {
        self.0.iter_mut().map(|(id, s)| (*id, s))
    }

    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.0.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_channel_costs_one_slot_and_lookups_find_by_id() {
        let mut slots = Slots::default();
        for id in [3, 1, 2] {
            slots.insert(ChannelId(id), ChannelSlot::for_test());
            if id == 3 {
                // A HashMap held four buckets here.
                assert_eq!(slots.capacity(), 1);
            }
        }
        assert!(slots.get(ChannelId(2)).is_some() && slots.get(ChannelId(4)).is_none());
        let ids: Vec<u64> = slots.iter_mut().map(|(id, _)| id.0).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert!(slots.remove(ChannelId(1)).is_some() && slots.remove(ChannelId(1)).is_none());
        assert!(slots.get_mut(ChannelId(3)).is_some());
        slots.remove(ChannelId(2));
        slots.remove(ChannelId(3));
        assert_eq!(slots.capacity(), 0);
    }
}
