//! numpy's arrays as the engine takes them, and the engine's totals as Python's numbers.
//!
//! An array is read where it lies: its element type from its dtype, its byte order, shape and
//! strides as numpy keeps them (one block in any order of the axes is summed in place; any other
//! view is copied a chunk at a time by the engine). While the GIL is released another Python
//! thread could write to the array: the sum is then of whatever the memory held as it was read.

use std::collections::HashMap;

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyFloat;

use numpy::{PyArrayDescrMethods, PyUntypedArray, PyUntypedArrayMethods};

use gpusum::engine::StridedBytes;
use gpusum::{ArrayTotal, ByteOrder, Dtype};

/// What the element types gpusum sums are called in numpy, for messages.
const SUMMED: &str = "bool, int8 to int64, uint8 to uint64, float32 and float64";

/// An array's elements, borrowed from numpy for as long as the array is held.
pub(crate) struct Elements<'py> {
    /// Held so that the memory below stays where it is.
    _array: Bound<'py, PyUntypedArray>,
    span: &'py [u8],
    origin: usize,
    shape: Vec<usize>,
    strides: Vec<isize>,
    dtype: Dtype,
    order: ByteOrder,
    /// Whether numpy holds the elements as bools (summed as u8).
    bool: bool,
}

impl<'py> Elements<'py> {
    /// `x` as an array (anything `numpy.asarray` takes), of a type gpusum sums.
    ///
    /// # Errors
    /// `TypeError` for another dtype; numpy's own for what it cannot make an array of.
    pub(crate) fn of(x: &Bound<'py, PyAny>) -> PyResult<Self> {
        let py = x.py();
        let array = match x.cast::<PyUntypedArray>() {
            Ok(array) => array.clone(),
            Err(_) => py
                .import("numpy")?
                .call_method1("asarray", (x,))?
                .cast_into::<PyUntypedArray>()?,
        };
        let descr = array.dtype();
        let size = descr.itemsize();
        let dtype = match (descr.kind(), size) {
            _ if descr.has_fields() || descr.has_subarray() => None,
            // numpy keeps a bool as one byte, 0 or 1: summed as a u8, it counts the Trues.
            (b'b', 1) => Some(Dtype::U8),
            (b'i', 1) => Some(Dtype::I8),
            (b'i', 2) => Some(Dtype::I16),
            (b'i', 4) => Some(Dtype::I32),
            (b'i', 8) => Some(Dtype::I64),
            (b'u', 1) => Some(Dtype::U8),
            (b'u', 2) => Some(Dtype::U16),
            (b'u', 4) => Some(Dtype::U32),
            (b'u', 8) => Some(Dtype::U64),
            (b'f', 4) => Some(Dtype::F32),
            (b'f', 8) => Some(Dtype::F64),
            _ => None,
        };
        let Some(dtype) = dtype else {
            return Err(PyTypeError::new_err(format!(
                "gpusum sums {SUMMED} arrays, not {}",
                descr.str()?
            )));
        };
        // Not `descr.name`: numpy 2 computes that in Python, which tripled a short sum's time.
        let bool = descr.kind() == b'b';
        let order = match descr.byteorder() {
            b'>' => ByteOrder::Big,
            b'<' => ByteOrder::Little,
            _ => ByteOrder::NATIVE,
        };
        let shape = array.shape().to_vec();
        let strides = array.strides().to_vec();
        let count: u128 = shape.iter().map(|&n| n as u128).product();
        // The bytes the elements span, from the lowest to past the highest.
        let (mut low, mut high) = (0i128, size as i128);
        for (&n, &stride) in shape.iter().zip(&strides) {
            let reach = (n as i128 - 1) * stride as i128;
            if reach < 0 {
                low += reach
            } else {
                high += reach
            }
        }
        let span: &'py [u8] = if count == 0 {
            &[]
        } else {
            // SAFETY: numpy's data pointer addresses the element whose indices are all zero; its
            // shape and strides keep every element within [data + low, data + high), memory the
            // array owns or views, alive while `array` (held in the result) is.
            unsafe {
                let data = (*array.as_array_ptr()).fields.data as *const u8;
                std::slice::from_raw_parts(data.offset(low as isize), (high - low) as usize)
            }
        };
        Ok(Self {
            _array: array,
            span,
            origin: (-low) as usize,
            shape,
            strides,
            dtype,
            order,
            bool,
        })
    }

    /// The array's shape.
    pub(crate) fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// numpy's name of the element type, which makes an array of it in this machine's order.
    pub(crate) fn numpy_name(&self) -> &'static str {
        match self.dtype {
            _ if self.bool => "bool",
            Dtype::I8 => "int8",
            Dtype::I16 => "int16",
            Dtype::I32 => "int32",
            Dtype::I64 => "int64",
            Dtype::U8 => "uint8",
            Dtype::U16 => "uint16",
            Dtype::U32 => "uint32",
            Dtype::U64 => "uint64",
            Dtype::F32 => "float32",
            _ => "float64",
        }
    }

    /// Whether the elements are floats.
    pub(crate) fn is_float(&self) -> bool {
        self.dtype.is_float()
    }

    /// The elements as the engine's view of them.
    pub(crate) fn view(&self) -> Result<StridedBytes<'py>, gpusum::Error> {
        let (shape, strides) = (self.shape.clone(), self.strides.clone());
        StridedBytes::new(
            self.span,
            self.origin,
            shape,
            strides,
            self.dtype,
            self.order,
        )
    }
}

/// A total as Python's number: an `int` (exact, never wrapped), a `numpy.float32`, or a `float`,
/// each float the exact sum rounded once.
pub(crate) fn number(py: Python<'_>, total: &ArrayTotal) -> PyResult<Py<PyAny>> {
    match total {
        ArrayTotal::Int(sum) => int(py, sum.sum()),
        ArrayTotal::F32(sum) => {
            let value = f64::from(sum.round().value);
            Ok(py
                .import("numpy")?
                .getattr("float32")?
                .call1((value,))?
                .unbind())
        }
        ArrayTotal::F64(sum) => Ok(PyFloat::new(py, sum.round().value).into_any().unbind()),
        _ => Err(PyTypeError::new_err(
            "a total of a kind this gpusum does not know",
        )),
    }
}

/// `value` as a Python `int` (one value; many go through one [`Ints`]).
pub(crate) fn int(py: Python<'_>, value: i128) -> PyResult<Py<PyAny>> {
    Ints::new(py).int(value)
}

/// High halves whose shifted int [`Ints`] keeps, at most: beyond them each value pays for its own.
const KEPT_HIGHS: usize = 1024;

/// Python ints for many values at once. Past 64 bits, the limited API builds an int from its
/// halves as four objects (both halves, the shift, the or); here each is its high half shifted,
/// made once per distinct high half (a sum's outputs mostly share a few), plus its low half: two
/// objects a value.
pub(crate) struct Ints<'py> {
    py: Python<'py>,
    /// `high << 64` for each high half seen so far.
    shifted: HashMap<i64, Bound<'py, PyAny>>,
}

impl<'py> Ints<'py> {
    pub(crate) fn new(py: Python<'py>) -> Self {
        Self {
            py,
            shifted: HashMap::new(),
        }
    }

    /// `value` as a Python `int`.
    #[inline]
    pub(crate) fn int(&mut self, value: i128) -> PyResult<Py<PyAny>> {
        match i64::try_from(value) {
            Ok(small) => Ok(small.into_pyobject(self.py)?.into_any().unbind()),
            Err(_) => self.wide(value),
        }
    }

    /// A value outside i64: a u64 where it fits, else built from its halves.
    fn wide(&mut self, value: i128) -> PyResult<Py<PyAny>> {
        let py = self.py;
        if let Ok(wide) = u64::try_from(value) {
            return Ok(wide.into_pyobject(py)?.into_any().unbind());
        }
        // value = high * 2^64 + low, with 0 <= low < 2^64; an i128's high half fits an i64.
        let (high, low) = ((value >> 64) as i64, value as u64);
        let shifted = match self.shifted.get(&high) {
            Some(shifted) => shifted.clone(),
            None => {
                let shifted = high.into_pyobject(py)?.lshift(64)?;
                if self.shifted.len() < KEPT_HIGHS {
                    self.shifted.insert(high, shifted.clone());
                }
                shifted
            }
        };
        Ok(shifted.add(low)?.unbind())
    }
}

/// An element type from what a Python user writes: numpy's names (`"int32"`, `"float64"`,
/// `numpy.uint8`, a `numpy.dtype`) or gpusum's (`"i32"`, `"f64"`).
pub(crate) fn dtype_of(value: &Bound<'_, PyAny>) -> PyResult<Dtype> {
    let py = value.py();
    if let Ok(text) = value.extract::<String>()
        && let Ok(dtype) = text.parse::<Dtype>()
    {
        return Ok(dtype);
    }
    let descr = py.import("numpy")?.call_method1("dtype", (value,))?;
    let name: String = descr.getattr("name")?.extract()?;
    let dtype = match name.as_str() {
        "int8" => Dtype::I8,
        "int16" => Dtype::I16,
        "int32" => Dtype::I32,
        "int64" => Dtype::I64,
        "uint8" | "bool" => Dtype::U8,
        "uint16" => Dtype::U16,
        "uint32" => Dtype::U32,
        "uint64" => Dtype::U64,
        "float32" => Dtype::F32,
        "float64" => Dtype::F64,
        _ => {
            return Err(PyTypeError::new_err(format!(
                "gpusum sums {SUMMED} elements, not {name}"
            )));
        }
    };
    Ok(dtype)
}
