//! `gpusum file --axis` and `--by`: one exact sum per output, a line each or one JSON document.
//! Integers are printed in full; floats as the shortest decimal that reads back (`nan`, `inf`,
//! `-inf`), the exact sum rounded once; in JSON every number is a string, exact for any parser.

use serde::Serialize;

use gpusum::reduce::Outputs;

use super::out::{self, WriteError};

/// Bytes of text gathered before each write to stdout.
const WRITE_BYTES: usize = 1 << 20;

/// The outputs as lines: `SUM` per output (along axes), or `KEY<TAB>SUM` (by key).
pub fn print_lines(outputs: &Outputs) -> Result<(), WriteError> {
    let mut text = String::with_capacity(WRITE_BYTES.min(64 * outputs.len()));
    for i in 0..outputs.len() {
        if let Some(keys) = outputs.keys() {
            text.push_str(&keys.get(i).to_string());
            text.push('\t');
        }
        text.push_str(&outputs.text(i));
        text.push('\n');
        if text.len() >= WRITE_BYTES {
            out::print(&text)?;
            text.clear();
        }
    }
    out::print(&text)
}

/// What `--json` adds for the outputs: the shape and sums along axes; the keys, sums and counts
/// by key.
#[derive(Serialize)]
#[serde(untagged)]
pub enum OutputsJson {
    Along {
        axes: Vec<i64>,
        shape: Vec<u64>,
        sums: Vec<String>,
        /// Elements each output summed.
        count_each: String,
    },
    ByKey {
        keys_input: String,
        key_dtype: &'static str,
        keys: Vec<String>,
        sums: Vec<String>,
        counts: Vec<String>,
    },
}

impl OutputsJson {
    /// The outputs of a sum along `axes`.
    pub fn along(outputs: &Outputs, axes: &[i64]) -> Self {
        let shape = outputs.shape().unwrap_or_default();
        OutputsJson::Along {
            axes: axes.to_vec(),
            shape: shape.to_vec(),
            sums: texts(outputs),
            count_each: if outputs.is_empty() {
                "0".into()
            } else {
                outputs.count(0).to_string()
            },
        }
    }

    /// The outputs of a sum by the keys of `keys_input`.
    pub fn by_key(outputs: &Outputs, keys_input: String) -> Self {
        let keys = outputs.keys();
        OutputsJson::ByKey {
            keys_input,
            key_dtype: keys.map_or("", |keys| keys.dtype().name()),
            keys: keys.map_or_else(Vec::new, |keys| {
                keys.iter().map(|k| k.to_string()).collect()
            }),
            sums: texts(outputs),
            counts: (0..outputs.len())
                .map(|i| outputs.count(i).to_string())
                .collect(),
        }
    }
}

fn texts(outputs: &Outputs) -> Vec<String> {
    (0..outputs.len()).map(|i| outputs.text(i)).collect()
}

/// How many outputs rounded to an infinity from finite values.
pub fn overflowed(outputs: &Outputs) -> usize {
    if !outputs.dtype().is_float() {
        return 0;
    }
    (0..outputs.len()).filter(|&i| outputs.overflow(i)).count()
}
