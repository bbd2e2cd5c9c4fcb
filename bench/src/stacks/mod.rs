//! One module per stack, each with the same functions: `setup`, `transfer`, `idle_pairs`.

pub mod oxirtc;
pub mod str0m;
pub mod webrtc_rs;
