//! Packetizers and depacketizers per codec. See the crate documentation.
