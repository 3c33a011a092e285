//! The .npy header: numpy's format for one array, versions 1.0 to 3.0.
//!
//! A file is the magic `\x93NUMPY`, a version, a header length, and a Python dict literal such as
//! `{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), }`; the data follows. The order of
//! the elements (C or Fortran) does not change their sum, so only the type, byte order and count
//! matter here.

use std::io::Read;

use crate::array::{ByteOrder, Dtype, MAX_ELEMENTS};
use crate::error::InputProblem;

/// The first six bytes of every .npy file.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Longest header read: numpy's own reader refuses past 10,000 bytes unless told otherwise; this
/// leaves room and still bounds what a malformed length can make gpusum allocate.
const MAX_HEADER_BYTES: usize = 1 << 20;

/// What a .npy header says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct NpyHeader {
    /// The format version, (major, minor).
    pub version: (u8, u8),
    /// The element type.
    pub dtype: Dtype,
    /// The elements' byte order.
    pub order: ByteOrder,
    /// Whether the elements are in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The array's shape; empty for a 0-d array of one element.
    pub shape: Vec<u64>,
    /// Elements: the product of the shape.
    pub count: u64,
    /// Bytes from the start of the file to the first element.
    pub data_offset: u64,
}

/// Reads a header from `reader`, which must be at the start of the file, magic included; on
/// success `reader` is at the first element.
///
/// # Errors
/// [`InputProblem::NotNpy`] without the magic, [`InputProblem::BadHeader`] for a header this
/// reader cannot parse, [`InputProblem::UnsupportedDtype`] for a type gpusum cannot sum, and the
/// reader's own errors.
pub fn read_header(reader: &mut impl Read) -> Result<NpyHeader, HeaderError> {
    let mut magic = [0u8; 6];
    read_all(reader, &mut magic)?;
    if &magic != MAGIC {
        return Err(InputProblem::NotNpy.into());
    }
    read_header_after_magic(reader)
}

/// [`read_header`] for a reader whose first six bytes were the magic and have been consumed.
///
/// # Errors
/// As for [`read_header`].
pub fn read_header_after_magic(reader: &mut impl Read) -> Result<NpyHeader, HeaderError> {
    let mut version = [0u8; 2];
    read_all(reader, &mut version)?;
    let (length_bytes, utf8) = match version {
        [1, 0] => (2, false),
        [2, 0] => (4, false),
        [3, 0] => (4, true),
        [major, minor] => return Err(bad(format!("unsupported .npy version {major}.{minor}"))),
    };
    let mut length = [0u8; 4];
    read_all(reader, &mut length[..length_bytes])?;
    let header_len = u32::from_le_bytes(length) as usize;
    if header_len > MAX_HEADER_BYTES {
        return Err(bad(format!("a header of {header_len} bytes is too long")));
    }
    let mut text = vec![0u8; header_len];
    read_all(reader, &mut text)?;
    let text = if utf8 {
        String::from_utf8(text).map_err(|_| bad("the header is not UTF-8".into()))?
    } else if text.is_ascii() {
        String::from_utf8(text).expect("ASCII is UTF-8")
    } else {
        return Err(bad("a version 1 or 2 header must be ASCII".into()));
    };
    let mut header = parse_dict(&text)?;
    header.version = (version[0], version[1]);
    header.data_offset = (6 + 2 + length_bytes + header_len) as u64;
    Ok(header)
}

/// Why a header could not be read: its content, or the reader.
#[derive(Debug)]
pub enum HeaderError {
    /// The bytes are not a header gpusum can use.
    Problem(InputProblem),
    /// Reading failed; an early end of input is [`std::io::ErrorKind::UnexpectedEof`].
    Io(std::io::Error),
}

impl From<InputProblem> for HeaderError {
    fn from(problem: InputProblem) -> Self {
        HeaderError::Problem(problem)
    }
}

fn read_all(reader: &mut impl Read, buffer: &mut [u8]) -> Result<(), HeaderError> {
    reader.read_exact(buffer).map_err(|error| {
        if error.kind() == std::io::ErrorKind::UnexpectedEof {
            HeaderError::Problem(InputProblem::BadHeader {
                reason: "the input ends inside the header".into(),
            })
        } else {
            HeaderError::Io(error)
        }
    })
}

fn bad(reason: String) -> HeaderError {
    HeaderError::Problem(InputProblem::BadHeader { reason })
}

/// A value of the header's Python literal.
#[derive(Debug, PartialEq)]
enum Value {
    Str(String),
    Bool(bool),
    Int(u64),
    Seq(Vec<Value>),
    Dict,
}

fn parse_dict(text: &str) -> Result<NpyHeader, HeaderError> {
    let mut parser = Parser {
        bytes: text.as_bytes(),
        at: 0,
    };
    parser.expect(b'{')?;
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        if parser.eat(b'}') {
            break;
        }
        let Value::Str(key) = parser.value(0)? else {
            return Err(bad("a header key is not a string".into()));
        };
        parser.expect(b':')?;
        let value = parser.value(0)?;
        match key.as_str() {
            "descr" => descr = Some(value),
            "fortran_order" => fortran = Some(value),
            "shape" => shape = Some(value),
            _ => {}
        }
        if !parser.eat(b',') {
            parser.expect(b'}')?;
            break;
        }
    }
    parser.skip_space();
    if parser.at != parser.bytes.len() {
        return Err(bad("text follows the header's dict".into()));
    }
    let (dtype, order) = match descr {
        Some(Value::Str(descr)) => parse_descr(&descr)?,
        Some(Value::Seq(_)) => {
            return Err(InputProblem::UnsupportedDtype {
                descr: "a list of fields".into(),
                kind: "structured records",
            }
            .into());
        }
        Some(_) => return Err(bad("'descr' is not a string".into())),
        None => return Err(bad("the header has no 'descr'".into())),
    };
    let fortran_order = match fortran {
        Some(Value::Bool(value)) => value,
        Some(_) => return Err(bad("'fortran_order' is not True or False".into())),
        None => return Err(bad("the header has no 'fortran_order'".into())),
    };
    let shape = match shape {
        Some(Value::Seq(items)) => items
            .into_iter()
            .map(|item| match item {
                Value::Int(n) => Ok(n),
                _ => Err(bad("'shape' holds something other than integers".into())),
            })
            .collect::<Result<Vec<u64>, _>>()?,
        Some(_) => return Err(bad("'shape' is not a tuple".into())),
        None => return Err(bad("the header has no 'shape'".into())),
    };
    let count = shape
        .iter()
        .try_fold(1u64, |count, &n| count.checked_mul(n))
        .filter(|&count| count <= MAX_ELEMENTS)
        .ok_or_else(|| bad(format!("the shape {shape:?} holds too many elements")))?;
    Ok(NpyHeader {
        version: (0, 0),
        dtype,
        order,
        fortran_order,
        shape,
        count,
        data_offset: 0,
    })
}

/// A type string such as `<i8`, `>u2` or `|u1`.
fn parse_descr(descr: &str) -> Result<(Dtype, ByteOrder), HeaderError> {
    let unsupported = |kind: &'static str| {
        Err(HeaderError::Problem(InputProblem::UnsupportedDtype {
            descr: descr.to_owned(),
            kind,
        }))
    };
    let mut chars = descr.chars();
    let order = match chars.next() {
        Some('<') => ByteOrder::Little,
        Some('>') => ByteOrder::Big,
        Some('|') | Some('=') => ByteOrder::NATIVE,
        _ => return Err(bad(format!("the type {descr:?} has no byte order"))),
    };
    let kind = chars.next();
    let size: String = chars.collect();
    let dtype = match (kind, size.as_str()) {
        (Some('i'), "1") => Dtype::I8,
        (Some('i'), "2") => Dtype::I16,
        (Some('i'), "4") => Dtype::I32,
        (Some('i'), "8") => Dtype::I64,
        (Some('u'), "1") => Dtype::U8,
        (Some('u'), "2") => Dtype::U16,
        (Some('u'), "4") => Dtype::U32,
        (Some('u'), "8") => Dtype::U64,
        (Some('f'), "4") => Dtype::F32,
        (Some('f'), "8") => Dtype::F64,
        (Some('i' | 'u'), _) => return unsupported("integers of a width gpusum does not sum"),
        (Some('f'), _) => return unsupported("floats of a width gpusum does not sum"),
        (Some('b'), _) => return unsupported("booleans"),
        (Some('c'), _) => return unsupported("complex numbers"),
        (Some('O'), _) => return unsupported("Python objects"),
        (Some('U'), _) => return unsupported("Unicode strings"),
        (Some('S' | 'a'), _) => return unsupported("byte strings"),
        (Some('M'), _) => return unsupported("datetimes"),
        (Some('m'), _) => return unsupported("timedeltas"),
        (Some('V'), _) => return unsupported("raw void records"),
        _ => return Err(bad(format!("the type {descr:?} is not one numpy writes"))),
    };
    // A one-byte type has no byte order, and '|' says so; '=' means this machine's.
    Ok((
        dtype,
        if dtype.size() == 1 {
            ByteOrder::Little
        } else {
            order
        },
    ))
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Deepest nesting of tuples and lists parsed: a shape needs one.
const MAX_DEPTH: usize = 8;

impl Parser<'_> {
    fn skip_space(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_space();
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), HeaderError> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(bad(format!(
                "expected '{}' at byte {} of the header",
                byte as char, self.at
            )))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, HeaderError> {
        if depth > MAX_DEPTH {
            return Err(bad("the header nests too deeply".into()));
        }
        self.skip_space();
        match self.bytes.get(self.at) {
            Some(&quote @ (b'\'' | b'"')) => {
                self.at += 1;
                let start = self.at;
                while self.bytes.get(self.at).is_some_and(|&b| b != quote) {
                    self.at += 1;
                }
                if self.at == self.bytes.len() {
                    return Err(bad("a string in the header is not closed".into()));
                }
                let text = std::str::from_utf8(&self.bytes[start..self.at])
                    .map_err(|_| bad("a string in the header is not UTF-8".into()))?;
                self.at += 1;
                Ok(Value::Str(text.to_owned()))
            }
            Some(&open @ (b'(' | b'[')) => {
                self.at += 1;
                let close = if open == b'(' { b')' } else { b']' };
                let mut items = Vec::new();
                loop {
                    if self.eat(close) {
                        break;
                    }
                    items.push(self.value(depth + 1)?);
                    if !self.eat(b',') {
                        self.expect(close)?;
                        break;
                    }
                }
                Ok(Value::Seq(items))
            }
            Some(b'{') => {
                // Only a structured type's metadata nests a dict; skip it.
                let mut level = 0usize;
                while let Some(&b) = self.bytes.get(self.at) {
                    self.at += 1;
                    match b {
                        b'{' => level += 1,
                        b'}' if level == 1 => return Ok(Value::Dict),
                        b'}' => level -= 1,
                        _ => {}
                    }
                }
                Err(bad("a dict in the header is not closed".into()))
            }
            Some(b) if b.is_ascii_alphanumeric() => {
                let start = self.at;
                while self
                    .bytes
                    .get(self.at)
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
                {
                    self.at += 1;
                }
                let word = std::str::from_utf8(&self.bytes[start..self.at]).expect("ASCII");
                match word {
                    "True" => Ok(Value::Bool(true)),
                    "False" => Ok(Value::Bool(false)),
                    // Python 2 wrote long integers with an L.
                    _ => word
                        .trim_end_matches('L')
                        .parse::<u64>()
                        .map(Value::Int)
                        .map_err(|_| bad(format!("{word:?} in the header is not a value"))),
                }
            }
            _ => Err(bad(format!(
                "unexpected text at byte {} of the header",
                self.at
            ))),
        }
    }
}

#[cfg(test)]
mod tests;
