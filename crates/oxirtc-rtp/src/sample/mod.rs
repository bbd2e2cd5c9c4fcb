//! Frame assembly. See the crate documentation.
