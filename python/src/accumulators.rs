//! `gpusum.ExactSum` and `gpusum.ExactFloatSum`: the library's exact, mergeable totals, for
//! partial sums that travel between processes (by `to_bytes`/`from_bytes` in the library's
//! versioned formats, and by pickling through the same bytes).

use pyo3::exceptions::{PyOverflowError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyFloat, PyInt};

use gpusum::{ArrayTotal, ExactIntSum};

use crate::arrays::{int, number};
use crate::engine::default_engine;
use crate::errors::to_py;

/// The exact sum of `x` (an array-like) on the default `"auto"` engine.
fn array_total(x: &Bound<'_, PyAny>) -> PyResult<ArrayTotal> {
    let py = x.py();
    default_engine(py, "auto", None)?
        .get()
        .sum_total(py, x, None)
}

/// An exact running sum of integers: `add` arrays or ints, `merge` other sums in any order,
/// `value` (or `int()`) the exact total, `count` the elements added. Pickles, and `to_bytes`
/// gives the library's versioned format, which `ExactSum.from_bytes` reads back.
#[pyclass(module = "gpusum", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct ExactSum {
    sum: ExactIntSum,
}

#[pymethods]
impl ExactSum {
    #[new]
    fn new() -> Self {
        Self {
            sum: ExactIntSum::new(),
        }
    }

    /// Adds `x`: an int (bools count as 0 and 1) of at most 64 bits, or every element of an
    /// integer or bool array-like.
    fn add(&mut self, x: &Bound<'_, PyAny>) -> PyResult<()> {
        let part = if x.is_instance_of::<PyInt>() {
            let value: i128 = x.extract()?;
            if value.unsigned_abs() >= 1 << 64 {
                return Err(PyOverflowError::new_err(format!(
                    "ExactSum adds integers below 2^64 in magnitude, not {value}"
                )));
            }
            ExactIntSum::from_parts(value, 1).map_err(to_py)?
        } else {
            match array_total(x)? {
                ArrayTotal::Int(sum) => sum,
                _ => {
                    return Err(PyTypeError::new_err(
                        "ExactSum adds integers and bools; for floats use ExactFloatSum",
                    ));
                }
            }
        };
        self.sum.merge(part).map_err(to_py)
    }

    /// Adds another sum's elements.
    fn merge(&mut self, other: &ExactSum) -> PyResult<()> {
        self.sum.merge(other.sum).map_err(to_py)
    }

    /// The exact sum, an `int`.
    #[getter]
    fn value(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        int(py, self.sum.sum())
    }

    /// Elements added.
    #[getter]
    fn count(&self) -> u64 {
        self.sum.count()
    }

    fn __int__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.value(py)
    }

    /// The sum in the library's versioned byte format.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.sum.to_bytes())
    }

    /// Reads what `to_bytes` wrote; `ValueError` for anything else.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        let sum =
            ExactIntSum::from_bytes(data).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(Self { sum })
    }

    fn __getstate__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.to_bytes(py)
    }

    fn __setstate__(&mut self, state: &[u8]) -> PyResult<()> {
        *self = Self::from_bytes(state)?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!(
            "gpusum.ExactSum({}, count={})",
            self.sum.sum(),
            self.sum.count()
        )
    }
}

/// An exact running sum of float32 or float64 values, rounded once when read: `add` arrays or
/// numbers, `merge` other sums of the same type in any order, `value` (or `float()`) the exact
/// sum rounded to nearest-even (a `numpy.float32` or a `float`), `count` the values added.
/// Pickles through `to_bytes`, the library's versioned format.
#[pyclass(module = "gpusum", eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct ExactFloatSum {
    sum: ArrayTotal,
}

impl ExactFloatSum {
    fn dtype_name(&self) -> &'static str {
        match self.sum {
            ArrayTotal::F32(_) => "float32",
            _ => "float64",
        }
    }
}

#[pymethods]
impl ExactFloatSum {
    /// A sum of `dtype` values: `"float32"` or `"float64"` (or numpy's dtype for either).
    #[new]
    #[pyo3(signature = (dtype = None))]
    fn new(dtype: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let dtype = match dtype {
            None => gpusum::Dtype::F64,
            Some(dtype) => crate::arrays::dtype_of(dtype)?,
        };
        if !dtype.is_float() {
            return Err(PyTypeError::new_err(format!(
                "ExactFloatSum sums float32 or float64 values, not {dtype}; for integers use ExactSum"
            )));
        }
        Ok(Self {
            sum: ArrayTotal::new(dtype),
        })
    }

    /// Adds `x`: a number, which must be a value of this sum's type exactly (round a float to
    /// float32 first with `numpy.float32`), or every value of an array-like of this type.
    fn add(&mut self, x: &Bound<'_, PyAny>) -> PyResult<()> {
        let number = x.is_instance_of::<PyFloat>()
            || (x.is_instance_of::<PyInt>() && !x.is_instance_of::<PyBool>());
        let part = if number {
            let value: f64 = x.extract()?;
            if x.is_instance_of::<PyInt>()
                && let Ok(exact) = x.extract::<i128>()
                && value as i128 != exact
            {
                return Err(PyValueError::new_err(format!(
                    "{exact} is not a float64: it would round"
                )));
            }
            let mut part = self.sum.clone();
            part = match part {
                ArrayTotal::F32(_) => {
                    let single = value as f32;
                    if f64::from(single) != value && !value.is_nan() {
                        return Err(PyValueError::new_err(format!(
                            "{value} is not a float32: round it first with numpy.float32"
                        )));
                    }
                    let mut sum = gpusum::ExactFloatSum::<f32>::new();
                    sum.add_slice(&[single]).map_err(to_py)?;
                    ArrayTotal::F32(sum)
                }
                _ => {
                    let mut sum = gpusum::ExactFloatSum::<f64>::new();
                    sum.add_slice(&[value]).map_err(to_py)?;
                    ArrayTotal::F64(sum)
                }
            };
            part
        } else {
            array_total(x)?
        };
        self.sum.merge(&part).map_err(|_| {
            PyTypeError::new_err(format!(
                "ExactFloatSum({:?}) adds {} values",
                self.dtype_name(),
                self.dtype_name()
            ))
        })
    }

    /// Adds another sum of the same type.
    fn merge(&mut self, other: &ExactFloatSum) -> PyResult<()> {
        self.sum.merge(&other.sum).map_err(|_| {
            PyTypeError::new_err(format!(
                "an ExactFloatSum({:?}) cannot take an ExactFloatSum({:?})",
                self.dtype_name(),
                other.dtype_name()
            ))
        })
    }

    /// The exact sum rounded once: a `numpy.float32` or a `float`.
    #[getter]
    fn value(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        number(py, &self.sum)
    }

    /// Values added.
    #[getter]
    fn count(&self) -> u64 {
        self.sum.count()
    }

    /// `"float32"` or `"float64"`.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.dtype_name()
    }

    fn __float__(&self) -> f64 {
        match &self.sum {
            ArrayTotal::F32(sum) => f64::from(sum.round().value),
            ArrayTotal::F64(sum) => sum.round().value,
            _ => f64::NAN,
        }
    }

    /// The sum in the library's versioned byte format.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.sum.to_bytes())
    }

    /// Reads what `to_bytes` wrote; `ValueError` for anything else.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        match ArrayTotal::from_bytes(data) {
            Ok(sum @ (ArrayTotal::F32(_) | ArrayTotal::F64(_))) => Ok(Self { sum }),
            Ok(_) => Err(PyValueError::new_err(
                "the bytes hold an ExactSum of integers, not an ExactFloatSum",
            )),
            Err(error) => Err(PyValueError::new_err(error.to_string())),
        }
    }

    fn __getnewargs__(&self) -> (&'static str,) {
        (self.dtype_name(),)
    }

    fn __getstate__<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        self.to_bytes(py)
    }

    fn __setstate__(&mut self, state: &[u8]) -> PyResult<()> {
        *self = Self::from_bytes(state)?;
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!(
            "gpusum.ExactFloatSum({:?}, value={}, count={})",
            self.dtype_name(),
            self.sum,
            self.sum.count()
        )
    }
}
