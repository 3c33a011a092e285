//! What a sum is asked to do, described once: what is summed ([`Source`]) and how it is reduced
//! ([`Reduce`]), together a [`Request`]. The engine plans and runs requests; every convenience
//! method is one line over them.

use super::strided::StridedBytes;
use crate::Error;
use crate::array::{ByteOrder, Dtype, IntSlice, MAX_ELEMENTS};
use crate::gpu::DeviceArray;
use crate::input::ChunkRead;
use crate::range::SumRange;
use crate::total::FloatSlice;

/// Whole elements of one type in host memory, in either byte order.
///
/// ```
/// use gpusum::engine::ArrayBytes;
/// use gpusum::{ByteOrder, Dtype};
/// let bytes: Vec<u8> = [1i32, -2, 3].iter().flat_map(|v| v.to_be_bytes()).collect();
/// let array = ArrayBytes::new(&bytes, Dtype::I32, ByteOrder::Big)?;
/// assert_eq!(array.len(), 3);
/// assert!(ArrayBytes::new(&bytes[1..], Dtype::I32, ByteOrder::Big).is_err());
/// # Ok::<(), gpusum::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrayBytes<'a> {
    bytes: &'a [u8],
    dtype: Dtype,
    order: ByteOrder,
}

impl<'a> ArrayBytes<'a> {
    /// `bytes` as elements of `dtype` stored in `order`, any alignment.
    ///
    /// # Errors
    /// [`Error::InvalidArray`] when the bytes are not a whole number of elements, and
    /// [`Error::TooManyElements`] past 2^63 - 1 of them.
    pub fn new(bytes: &'a [u8], dtype: Dtype, order: ByteOrder) -> Result<Self, Error> {
        if !bytes.len().is_multiple_of(dtype.size()) {
            return Err(Error::InvalidArray {
                reason: format!(
                    "{} bytes are not a whole number of {dtype} elements ({} bytes each)",
                    bytes.len(),
                    dtype.size()
                ),
            });
        }
        if (bytes.len() / dtype.size()) as u64 > MAX_ELEMENTS {
            return Err(Error::TooManyElements);
        }
        Ok(Self {
            bytes,
            dtype,
            order,
        })
    }

    /// The element type.
    #[must_use]
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// How each element's bytes are ordered.
    #[must_use]
    pub fn order(&self) -> ByteOrder {
        self.order
    }

    /// The elements' bytes.
    #[must_use]
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> u64 {
        (self.bytes.len() / self.dtype.size()) as u64
    }

    /// Whether there is no element.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }
}

impl<'a> From<IntSlice<'a>> for ArrayBytes<'a> {
    fn from(slice: IntSlice<'a>) -> Self {
        Self {
            bytes: slice.as_bytes(),
            dtype: slice.dtype(),
            order: ByteOrder::NATIVE,
        }
    }
}

impl<'a> From<FloatSlice<'a>> for ArrayBytes<'a> {
    fn from(slice: FloatSlice<'a>) -> Self {
        Self {
            bytes: slice.as_bytes(),
            dtype: slice.dtype(),
            order: ByteOrder::NATIVE,
        }
    }
}

/// Elements of one type in a caller's `wgpu::Buffer`, summed in place (see
/// [`GpuContext::sum_buffer`](crate::GpuContext::sum_buffer) for what the buffer needs).
#[derive(Clone, Copy, Debug)]
pub struct BufferSlice<'a> {
    /// The buffer, with `STORAGE` usage.
    pub buffer: &'a wgpu::Buffer,
    /// Where the elements start, in bytes: a multiple of 4 and of the element size.
    pub offset: u64,
    /// Number of elements.
    pub len: u64,
    /// Their type.
    pub dtype: Dtype,
}

/// What a request sums.
#[non_exhaustive]
pub enum Source<'a> {
    /// Every integer of an inclusive range, generated where it is summed.
    Range(SumRange),
    /// An array in host memory.
    Array(ArrayBytes<'a>),
    /// An array at strides in host memory whose elements are not one block (see
    /// [`Source::strided`]): copied a bounded chunk at a time.
    Strided(StridedBytes<'a>),
    /// A stream of chunks: a `.npy` file, a raw file, a pipe
    /// ([`ArrayReader`](crate::input::ArrayReader)), read once with bounded memory.
    Reader(&'a mut dyn ChunkRead),
    /// An array gpusum keeps on a device ([`GpuContext::upload`](crate::GpuContext::upload)).
    Device(&'a DeviceArray),
    /// A caller's buffer on a device.
    Buffer(BufferSlice<'a>),
}

impl<'a> Source<'a> {
    /// A strided array: [`Source::Array`] where its elements form one block (summed in place),
    /// else [`Source::Strided`].
    #[must_use]
    pub fn strided(view: StridedBytes<'a>) -> Self {
        match view.contiguous() {
            Some(block) => Source::Array(block),
            None => Source::Strided(view),
        }
    }

    /// The element type of an array; `None` for a range.
    #[must_use]
    pub fn dtype(&self) -> Option<Dtype> {
        match self {
            Source::Range(_) => None,
            Source::Array(array) => Some(array.dtype()),
            Source::Strided(view) => Some(view.dtype()),
            Source::Reader(reader) => Some(reader.format().dtype),
            Source::Device(array) => Some(array.dtype()),
            Source::Buffer(slice) => Some(slice.dtype),
        }
    }

    /// Number of elements, where known before summing (a stream of raw data may not say).
    #[must_use]
    pub fn count(&self) -> Option<u128> {
        match self {
            Source::Range(range) => Some(range.count()),
            Source::Array(array) => Some(u128::from(array.len())),
            Source::Strided(view) => Some(u128::from(view.len())),
            Source::Reader(reader) => reader.format().count.map(u128::from),
            Source::Device(array) => Some(u128::from(array.len())),
            Source::Buffer(slice) => Some(u128::from(slice.len)),
        }
    }

    /// Whether the data already lives on a device.
    #[must_use]
    pub fn on_device(&self) -> bool {
        matches!(self, Source::Device(_) | Source::Buffer(_))
    }

    /// Whether the source can still be summed from its start: a stream that has handed out
    /// data cannot be read again.
    pub(crate) fn restartable(&self) -> bool {
        match self {
            Source::Reader(reader) => reader.bytes_read() == 0,
            _ => true,
        }
    }
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Range(range) => f.debug_tuple("Range").field(range).finish(),
            Source::Array(array) => f.debug_tuple("Array").field(array).finish(),
            Source::Strided(view) => f.debug_tuple("Strided").field(view).finish(),
            Source::Reader(reader) => f.debug_tuple("Reader").field(&reader.name()).finish(),
            Source::Device(array) => f.debug_tuple("Device").field(array).finish(),
            Source::Buffer(slice) => f.debug_tuple("Buffer").field(slice).finish(),
        }
    }
}

impl From<SumRange> for Source<'_> {
    fn from(range: SumRange) -> Self {
        Source::Range(range)
    }
}

impl<'a> From<ArrayBytes<'a>> for Source<'a> {
    fn from(array: ArrayBytes<'a>) -> Self {
        Source::Array(array)
    }
}

impl<'a> From<IntSlice<'a>> for Source<'a> {
    fn from(slice: IntSlice<'a>) -> Self {
        Source::Array(slice.into())
    }
}

impl<'a> From<FloatSlice<'a>> for Source<'a> {
    fn from(slice: FloatSlice<'a>) -> Self {
        Source::Array(slice.into())
    }
}

/// A view keeps its shape (for a sum along axes); [`Source::strided`] flattens one that is a
/// block.
impl<'a> From<StridedBytes<'a>> for Source<'a> {
    fn from(view: StridedBytes<'a>) -> Self {
        Source::Strided(view)
    }
}

impl<'a> From<&'a DeviceArray> for Source<'a> {
    fn from(array: &'a DeviceArray) -> Self {
        Source::Device(array)
    }
}

impl<'a> From<BufferSlice<'a>> for Source<'a> {
    fn from(slice: BufferSlice<'a>) -> Self {
        Source::Buffer(slice)
    }
}

/// How a request reduces its source.
#[derive(Debug, Default)]
#[non_exhaustive]
pub enum Reduce<'a> {
    /// Every element into one total.
    #[default]
    All,
    /// Along the axes named (numpy's way: negative ones count from the end; none at all leaves
    /// every element its own output): one total per index of the other axes, in C order over
    /// them ([`Outputs`](crate::reduce::Outputs) with a shape). The source's shape comes from a
    /// .npy header or a [`StridedBytes`](super::StridedBytes) view; a flat array has one axis.
    Axes(Vec<i64>),
    /// By key: one total and count per distinct key of these keys (integers, one per element of
    /// the source), the keys ascending ([`Outputs`](crate::reduce::Outputs) with keys).
    ByKey(Box<Source<'a>>),
}

impl Reduce<'_> {
    /// Whether the reduction is every element into one total.
    #[must_use]
    pub fn is_all(&self) -> bool {
        matches!(self, Reduce::All)
    }

    /// Whether the reduction's own data can still be read from its start.
    pub(crate) fn restartable(&self) -> bool {
        match self {
            Reduce::ByKey(keys) => keys.restartable() && !keys.on_device(),
            _ => true,
        }
    }
}

/// One sum, described once: the engine plans it ([`Engine::plan`](super::Engine::plan)) and runs
/// it ([`Engine::run`](super::Engine::run)).
///
/// ```
/// use gpusum::engine::Request;
/// use gpusum::{BackendChoice, Control, Engine, EngineOptions, IntSlice, SumRange};
/// let engine = Engine::open(&EngineOptions::new(BackendChoice::Auto))?;
/// let outcome = engine.sum_request(Request::new(SumRange::new(1, 20)), &Control::new())?;
/// assert_eq!(outcome.total.int_sum(), Some(210));
/// let values = [i64::MAX; 3];
/// let outcome = engine.sum_request(Request::new(IntSlice::I64(&values)), &Control::new())?;
/// assert_eq!(outcome.total.int_sum(), Some(3 * i64::MAX as i128));
/// // By key: values 10, 20, 30, 40 under keys 7, -1, 7, 7.
/// let keys = [7i8, -1, 7, 7];
/// let values = [10u16, 20, 30, 40];
/// let request = Request::by_key(IntSlice::U16(&values), IntSlice::I8(&keys));
/// let outputs = engine.sum_request(request, &Control::new())?.outputs.unwrap();
/// let keys: Vec<i128> = outputs.keys().unwrap().iter().collect();
/// assert_eq!(keys, [-1, 7]);
/// assert_eq!((outputs.int_sum(1), outputs.count(1)), (Some(80), 3));
/// # Ok::<(), gpusum::Error>(())
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Request<'a> {
    /// What is summed.
    pub source: Source<'a>,
    /// How it is reduced.
    pub reduce: Reduce<'a>,
    /// Whether the CPU twin sums the array again, for [`Outcome::cpu_check`](super::Outcome):
    /// on a GPU, each chunk as it is read; on the CPU, by its other path (one thread against the
    /// pool). Ranges are checked against their closed form by the caller instead.
    pub check: bool,
}

impl<'a> Request<'a> {
    /// Every element of `source` into one total, unchecked.
    pub fn new(source: impl Into<Source<'a>>) -> Self {
        Self {
            source: source.into(),
            reduce: Reduce::All,
            check: false,
        }
    }

    /// `source` summed along `axes` (see [`Reduce::Axes`]), unchecked.
    pub fn along(source: impl Into<Source<'a>>, axes: &[i64]) -> Self {
        Self {
            reduce: Reduce::Axes(axes.to_vec()),
            ..Self::new(source)
        }
    }

    /// `values` summed by `keys` (see [`Reduce::ByKey`]), unchecked.
    pub fn by_key(values: impl Into<Source<'a>>, keys: impl Into<Source<'a>>) -> Self {
        Self {
            reduce: Reduce::ByKey(Box::new(keys.into())),
            ..Self::new(values)
        }
    }

    /// The same request with the CPU twin's check on or off.
    #[must_use]
    pub fn with_check(self, check: bool) -> Self {
        Self { check, ..self }
    }
}
