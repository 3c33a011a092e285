//! Every JSON document the binary prints: the body, with the schema version and gpusum's version
//! in front (docs/JSON.md describes each).

use serde::Serialize;

use gpusum::json::{GPUSUM_VERSION, SCHEMA};

#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema: u32,
    gpusum_version: &'static str,
    #[serde(flatten)]
    body: &'a T,
}

/// `body` as a JSON document: one line, or indented for people.
pub fn document<T: Serialize>(body: &T, pretty: bool) -> serde_json::Result<String> {
    let document = Document {
        schema: SCHEMA,
        gpusum_version: GPUSUM_VERSION,
        body,
    };
    if pretty {
        serde_json::to_string_pretty(&document)
    } else {
        serde_json::to_string(&document)
    }
}
