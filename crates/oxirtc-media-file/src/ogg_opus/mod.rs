//! Ogg Opus (RFC 7845): Opus packets in Ogg pages (RFC 3533).

mod head;
mod reader;
mod writer;

pub use head::{opus_packet_duration, ChannelMapping, OpusHead, OpusTags};
pub use reader::OggOpusReader;
pub use writer::{OggOpusWriter, PAGE_SAMPLES};
