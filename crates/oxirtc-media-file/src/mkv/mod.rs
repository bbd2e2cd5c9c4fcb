//! Matroska / WebM recordings (RFC 9559 Matroska, RFC 8794 EBML).

mod ebml;
mod track;
mod writer;

pub use writer::{MkvWriter, TrackId, MAX_CLUSTER_BYTES, MAX_CLUSTER_MS, MAX_QUEUED_BYTES};
