//! Array inputs: a .npy file, raw binary data of a given type, or a stream of either, read in
//! chunks of whole elements with bounded memory.
//!
//! Files are read, not memory-mapped: a mapped file that shrinks under gpusum would kill it with
//! SIGBUS, and reading costs one copy that the upload or the CPU sum overlaps.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::Path;
use std::pin::Pin;

use crate::Error;
use crate::array::{ByteOrder, Dtype, MAX_ELEMENTS};
use crate::error::InputProblem;
use crate::npy::{self, HeaderError};

/// How an input is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputFormat {
    /// .npy when the input starts with numpy's magic bytes, raw otherwise.
    #[default]
    Auto,
    /// A .npy file; anything else is an error.
    Npy,
    /// Raw elements, whatever the first bytes are.
    Raw,
}

/// What the caller says about an input; a .npy header says the rest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct InputHints {
    /// How to tell .npy from raw.
    pub format: InputFormat,
    /// The element type: required for raw input, checked against a .npy header.
    pub dtype: Option<Dtype>,
    /// Raw data is big-endian (an error with .npy, whose header says its order).
    pub big_endian: bool,
}

impl InputHints {
    /// Hints for raw data of `dtype`, little-endian.
    #[must_use]
    pub fn raw(dtype: Dtype) -> Self {
        Self {
            format: InputFormat::Raw,
            dtype: Some(dtype),
            big_endian: false,
        }
    }

    /// The same hints, with raw data big-endian (`true`) or little-endian.
    #[must_use]
    pub fn with_big_endian(self, big_endian: bool) -> Self {
        Self { big_endian, ..self }
    }

    /// The same hints, with another way to tell .npy from raw.
    #[must_use]
    pub fn with_format(self, format: InputFormat) -> Self {
        Self { format, ..self }
    }

    /// Hints that let the input say what it is (.npy), else take `dtype` for raw data.
    #[must_use]
    pub fn auto(dtype: Option<Dtype>) -> Self {
        Self {
            dtype,
            ..Self::default()
        }
    }
}

/// What an input holds, once its header (if any) is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArrayFormat {
    /// The element type.
    pub dtype: Dtype,
    /// The elements' byte order.
    pub order: ByteOrder,
    /// Elements, when known before reading them (a .npy header, a file's length).
    pub count: Option<u64>,
    /// Whether a .npy header said so.
    pub npy: bool,
}

/// An array's shape, as a .npy header gives it: what a sum along axes needs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ArrayShape {
    /// The length of each axis.
    pub dims: Vec<u64>,
    /// Whether the elements are stored in Fortran order (the first axis fastest).
    pub fortran_order: bool,
}

/// What [`ChunkRead::read_chunk`] returns: a future of the bytes it wrote.
pub type ChunkFuture<'a> = Pin<Box<dyn Future<Output = Result<usize, Error>> + 'a>>;

/// An array stream read a chunk at a time: how the CPU twins and the GPU's ring read every stream,
/// natively from a file or pipe ([`ArrayReader`]) and on the web from a browser's file, whose
/// reads are awaited.
pub trait ChunkRead {
    /// What the stream holds.
    fn format(&self) -> ArrayFormat;

    /// The stream's name in messages.
    fn name(&self) -> &str;

    /// Data bytes handed out so far.
    fn bytes_read(&self) -> u64;

    /// The array's shape, where the stream has one (a .npy header); raw data has none.
    fn shape(&self) -> Option<ArrayShape> {
        None
    }

    /// Fills `buffer` (whose length is a multiple of 16) with the next data bytes, in the
    /// format's byte order, and resolves to how many it wrote: whole elements, fewer than
    /// `buffer.len()` only at the end, zero once the data is over. The errors are
    /// [`ArrayReader::fill`]'s.
    fn read_chunk<'a>(&'a mut self, buffer: &'a mut [u8]) -> ChunkFuture<'a>;
}

impl<R: Read> ChunkRead for ArrayReader<R> {
    fn format(&self) -> ArrayFormat {
        self.format
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn bytes_read(&self) -> u64 {
        self.read
    }

    fn shape(&self) -> Option<ArrayShape> {
        self.shape.clone()
    }

    fn read_chunk<'a>(&'a mut self, buffer: &'a mut [u8]) -> ChunkFuture<'a> {
        Box::pin(std::future::ready(self.fill(buffer)))
    }
}

/// An input being read in chunks of whole elements.
pub struct ArrayReader<R> {
    reader: R,
    name: String,
    format: ArrayFormat,
    /// Bytes read before the format was known that belong to the data (raw input's first bytes).
    pending: Vec<u8>,
    /// Data bytes handed out so far.
    read: u64,
    /// The .npy header's shape.
    shape: Option<ArrayShape>,
    /// The whole input's length in bytes, header included, when known.
    length: Option<u64>,
}

impl ArrayReader<File> {
    /// Opens the file at `path`.
    ///
    /// # Errors
    /// [`Error::Read`] when it cannot be opened or read; [`Error::Input`] when its content or the
    /// hints do not make an array.
    pub fn open(path: &Path, hints: InputHints) -> Result<Self, Error> {
        let name = path.display().to_string();
        let file = File::open(path).map_err(|source| Error::Read {
            input: name.clone(),
            source,
        })?;
        let length = file
            .metadata()
            .ok()
            .filter(|m| m.is_file())
            .map(|m| m.len());
        Self::new(file, name, hints, length)
    }
}

impl<R: Read> ArrayReader<R> {
    /// Reads from `reader`, named `name` in messages; `length`, when known, is the input's whole
    /// length in bytes, which gives raw input its element count up front.
    ///
    /// # Errors
    /// As for [`ArrayReader::open`].
    pub fn new(
        mut reader: R,
        name: impl Into<String>,
        hints: InputHints,
        length: Option<u64>,
    ) -> Result<Self, Error> {
        let name = name.into();
        let input_error = |problem| Error::Input {
            input: name.clone(),
            problem,
        };
        let mut start = Vec::with_capacity(npy::MAGIC.len());
        let mut shape = None;
        if hints.format != InputFormat::Raw {
            read_up_to(&mut reader, &mut start, npy::MAGIC.len()).map_err(|source| {
                Error::Read {
                    input: name.clone(),
                    source,
                }
            })?;
        }
        let format = if start == npy::MAGIC {
            if hints.big_endian {
                return Err(input_error(InputProblem::OrderWithNpy));
            }
            let header = match npy::read_header_after_magic(&mut reader) {
                Ok(header) => header,
                Err(HeaderError::Problem(problem)) => return Err(input_error(problem)),
                Err(HeaderError::Io(source)) => {
                    return Err(Error::Read {
                        input: name.clone(),
                        source,
                    });
                }
            };
            if let Some(given) = hints.dtype.filter(|&given| given != header.dtype) {
                return Err(input_error(InputProblem::DtypeMismatch {
                    given,
                    header: header.dtype,
                }));
            }
            start.clear();
            shape = Some(ArrayShape {
                dims: header.shape.clone(),
                fortran_order: header.fortran_order,
            });
            ArrayFormat {
                dtype: header.dtype,
                order: header.order,
                count: Some(header.count),
                npy: true,
            }
        } else {
            let Some(dtype) = hints.dtype.filter(|_| hints.format != InputFormat::Npy) else {
                return Err(input_error(InputProblem::NotNpy));
            };
            let count = match length {
                Some(bytes) if bytes % dtype.size() as u64 != 0 => {
                    return Err(input_error(InputProblem::PartialElement { dtype, bytes }));
                }
                Some(bytes) => Some(bytes / dtype.size() as u64),
                None => None,
            };
            if count.is_some_and(|count| count > MAX_ELEMENTS) {
                return Err(Error::TooManyElements);
            }
            ArrayFormat {
                dtype,
                order: if hints.big_endian {
                    ByteOrder::Big
                } else {
                    ByteOrder::Little
                },
                count,
                npy: false,
            }
        };
        Ok(Self {
            reader,
            name,
            format,
            pending: start,
            read: 0,
            shape,
            length,
        })
    }

    /// What the input holds.
    pub fn format(&self) -> ArrayFormat {
        self.format
    }

    /// The input's name in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Bytes of data the input holds, when known up front.
    pub fn total_bytes(&self) -> Option<u64> {
        self.format
            .count
            .map(|count| count * self.format.dtype.size() as u64)
    }

    /// Data bytes handed out so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// Fills `buffer` (whose length must be a multiple of 16) with the next data bytes and
    /// returns how many it wrote: a whole number of elements, fewer than `buffer.len()` only at
    /// the end, zero once the data is over.
    ///
    /// # Errors
    /// [`InputProblem::Truncated`] when the input ends before its header's count,
    /// [`InputProblem::PartialElement`] when raw data ends inside an element, [`Error::Read`]
    /// when reading fails, and [`Error::TooManyElements`] past 2^63 - 1 elements.
    pub fn fill(&mut self, buffer: &mut [u8]) -> Result<usize, Error> {
        debug_assert!(buffer.len().is_multiple_of(16));
        let want = match self.total_bytes() {
            Some(total) => (total - self.read).min(buffer.len() as u64) as usize,
            None => buffer.len(),
        };
        let mut filled = self.pending.len().min(want);
        buffer[..filled].copy_from_slice(&self.pending[..filled]);
        self.pending.drain(..filled);
        while filled < want {
            match self.reader.read(&mut buffer[filled..want]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(Error::Read {
                        input: self.name.clone(),
                        source,
                    });
                }
            }
        }
        let read = self.read + filled as u64;
        let ended = filled < want;
        if let (true, Some(expected)) = (ended, self.total_bytes()) {
            return Err(self.problem(InputProblem::Truncated {
                expected,
                got: read,
            }));
        }
        let size = self.format.dtype.size() as u64;
        if ended && !read.is_multiple_of(size) {
            return Err(self.problem(InputProblem::PartialElement {
                dtype: self.format.dtype,
                bytes: read,
            }));
        }
        if read / size > MAX_ELEMENTS {
            return Err(Error::TooManyElements);
        }
        self.read = read;
        Ok(filled)
    }

    fn problem(&self, problem: InputProblem) -> Error {
        Error::Input {
            input: self.name.clone(),
            problem,
        }
    }
}

impl<R: Read + Seek> ArrayReader<R> {
    /// Where the data starts in the input (past a `.npy` header; 0 for raw data), before any
    /// of it was read: how a reader of the same bytes elsewhere (a browser's file) finds them.
    ///
    /// # Errors
    /// [`Error::Read`] when the position cannot be told.
    pub fn data_start(&mut self) -> Result<u64, Error> {
        let position = self
            .reader
            .stream_position()
            .map_err(|source| Error::Read {
                input: self.name.clone(),
                source,
            })?;
        // The reader stands past the bytes already taken for the format, which are data's.
        Ok(position - self.pending.len() as u64)
    }

    /// Narrows the input to the elements `elements` (in storage order) before any is read, by
    /// seeking: how one of several processes reads only its own part of a file. The count,
    /// the shape and every later read then describe that part alone.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] when data was read already, the input's count is unknown or the
    /// range lies outside it; [`InputProblem::Truncated`] when the input ends before the part
    /// does (with the whole array's figures, as a reader of all of it would say);
    /// [`Error::Read`] when seeking fails.
    pub fn select(&mut self, elements: Range<u64>) -> Result<(), Error> {
        let invalid = |reason: String| Err(Error::InvalidArray { reason });
        let Some(count) = self.format.count else {
            return invalid(format!(
                "{}: a part of an input of unknown length",
                self.name
            ));
        };
        if self.read != 0 {
            return invalid(format!("{}: a part once reading has begun", self.name));
        }
        if elements.start > elements.end || elements.end > count {
            return invalid(format!(
                "{}: elements {}..{} of {count}",
                self.name, elements.start, elements.end
            ));
        }
        let size = self.format.dtype.size() as u64;
        let data_start = self.data_start()?;
        let name = self.name.clone();
        let read_error = |source| Error::Read {
            input: name.clone(),
            source,
        };
        if let Some(length) = self.length
            && data_start + elements.end * size > length
        {
            return Err(self.problem(InputProblem::Truncated {
                expected: count * size,
                got: length.saturating_sub(data_start),
            }));
        }
        let offset = data_start + elements.start * size;
        self.reader
            .seek(SeekFrom::Start(offset))
            .map_err(read_error)?;
        self.pending.clear();
        self.format.count = Some(elements.end - elements.start);
        self.shape = None;
        Ok(())
    }
}

/// Reads until `into` holds `limit` bytes or the input ends.
fn read_up_to(reader: &mut impl Read, into: &mut Vec<u8>, limit: usize) -> io::Result<()> {
    let mut byte = [0u8; 8];
    while into.len() < limit {
        let want = limit - into.len();
        match reader.read(&mut byte[..want]) {
            Ok(0) => break,
            Ok(n) => into.extend_from_slice(&byte[..n]),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
