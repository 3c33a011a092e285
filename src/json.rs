//! JSON conventions shared by every report: an integer that can pass 2^53 is written as a
//! string, because JSON parsers that read numbers as doubles (JavaScript's, jq's) round it.

use std::fmt::Display;

use serde::Serializer;

/// The version of the JSON documents gpusum writes; it grows when a key changes meaning or goes
/// away (new keys may appear within a version).
pub const SCHEMA: u32 = 1;

/// This crate's version, as every JSON document and JUnit report names it.
pub const GPUSUM_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Serializes `value` as a JSON string.
pub(crate) fn string<T: Display, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// Serializes `value` as a JSON string, or null.
#[cfg(feature = "tools")]
pub(crate) fn option_string<T: Display, S: Serializer>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}
