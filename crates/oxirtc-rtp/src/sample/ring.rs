//! The packets a [`super::SampleBuilder`] holds: a ring indexed by extended sequence number whose
//! slots keep their buffers, so that holding a packet allocates nothing once they have grown.

use crate::codec::PayloadInfo;

/// What is kept of one packet besides its bytes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Meta {
    pub(super) timestamp: u32,
    pub(super) marker: bool,
    pub(super) info: PayloadInfo,
}

/// One held packet.
#[derive(Debug, Default)]
pub(super) struct Slot {
    ext: u64,
    present: bool,
    pub(super) timestamp: u32,
    pub(super) marker: bool,
    pub(super) info: PayloadInfo,
    /// The depacketized bytes.
    pub(super) data: Vec<u8>,
}

#[derive(Debug)]
pub(super) struct Ring {
    slots: Vec<Slot>,
    held_bytes: usize,
}

impl Ring {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            slots: (0..capacity).map(|_| Slot::default()).collect(),
            held_bytes: 0,
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Depacketized bytes held over all packets.
    pub(super) fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Packet `ext`, if held.
    pub(super) fn get(&self, ext: u64) -> Option<&Slot> {
        let slot = &self.slots[self.index(ext)];
        (slot.present && slot.ext == ext).then_some(slot)
    }

    /// Holds packet `ext`, whose bytes are swapped in from `data` (which gets the slot's old
    /// buffer). The caller keeps every held packet within one capacity of each other, so the slot
    /// is free.
    pub(super) fn insert(&mut self, ext: u64, meta: Meta, data: &mut Vec<u8>) {
        let i = self.index(ext);
        let slot = &mut self.slots[i];
        debug_assert!(!slot.present, "ring slot still holds packet {}", slot.ext);
        if slot.present {
            self.held_bytes -= slot.data.len();
        }
        std::mem::swap(&mut slot.data, data);
        self.held_bytes += slot.data.len();
        slot.ext = ext;
        slot.present = true;
        slot.timestamp = meta.timestamp;
        slot.marker = meta.marker;
        slot.info = meta.info;
    }

    /// Releases packet `ext`, if held; its buffer stays for reuse.
    pub(super) fn remove(&mut self, ext: u64) -> Option<Meta> {
        let i = self.index(ext);
        let slot = &mut self.slots[i];
        if !(slot.present && slot.ext == ext) {
            return None;
        }
        slot.present = false;
        self.held_bytes -= slot.data.len();
        Some(Meta {
            timestamp: slot.timestamp,
            marker: slot.marker,
            info: slot.info,
        })
    }

    fn index(&self, ext: u64) -> usize {
        (ext % self.slots.len() as u64) as usize
    }
}
