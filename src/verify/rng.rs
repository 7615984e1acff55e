//! The generator now lives in [`crate::rng`]; this path stays for the vector generators in
//! `src/verify` that still name `super::rng`.

pub use crate::rng::SplitMix64;
