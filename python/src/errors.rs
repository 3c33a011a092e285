//! The library's errors as Python's exceptions, mapped in this one place: `gpusum.Error` is the
//! base of gpusum's own, `gpusum.GpuError` the device's failures; the rest become the built-in
//! exception a Python user expects (a bad argument `ValueError`, a dtype `TypeError`, bounds
//! `OverflowError`, a deadline `TimeoutError`, a file the operating system's `OSError`).

use std::error::Error as _;

use pyo3::exceptions::{
    PyException, PyKeyboardInterrupt, PyOverflowError, PyTimeoutError, PyTypeError, PyValueError,
};
use pyo3::{PyErr, create_exception};

use gpusum::{Error, InputProblem};

create_exception!(
    gpusum,
    GpusumError,
    PyException,
    "The base of gpusum's own errors."
);
create_exception!(
    gpusum,
    GpuError,
    GpusumError,
    "A GPU failed or could not be used: none found, lost, out of memory, or a driver error."
);

/// The message of `error` with its sources, as the CLI prints it.
fn message(error: &Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The exception a Python user expects for `error`.
pub(crate) fn to_py(error: Error) -> PyErr {
    let text = message(&error);
    match error {
        Error::Timeout => PyTimeoutError::new_err(text),
        Error::Cancelled => PyKeyboardInterrupt::new_err(text),
        Error::TooManyElements | Error::RangeTooLong { .. } => PyOverflowError::new_err(text),
        Error::Input {
            problem: InputProblem::UnsupportedDtype { .. },
            ..
        }
        | Error::KeyType { .. } => PyTypeError::new_err(text),
        Error::InvalidAxis { .. } => axis_error(text),
        Error::Read { source, .. } => PyErr::from(std::io::Error::new(source.kind(), text)),
        Error::Input { .. }
        | Error::KeyCount { .. }
        | Error::InvalidArray { .. }
        | Error::InvalidAccumulator { .. }
        | Error::InvalidProfile { .. }
        | Error::InvalidShape { .. }
        | Error::AdapterNotFound { .. }
        | Error::KernelUnsupported { .. } => PyValueError::new_err(text),
        Error::NoAdapter { .. }
        | Error::RequestDevice { .. }
        | Error::Gpu { .. }
        | Error::OutOfMemory { .. }
        | Error::DeviceLost { .. }
        | Error::Poll(_)
        | Error::Map(_)
        | Error::MapRange(_)
        | Error::Busy
        | Error::Blocking => GpuError::new_err(text),
        _ => GpusumError::new_err(text),
    }
}

/// numpy's `AxisError` (a `ValueError` and an `IndexError`), as numpy raises for an axis an array
/// does not have; a `ValueError` where this numpy has none.
fn axis_error(text: String) -> PyErr {
    use pyo3::types::PyAnyMethods;
    pyo3::Python::attach(|py| {
        let class = py
            .import("numpy.exceptions")
            .or_else(|_| py.import("numpy"))
            .and_then(|module| module.getattr("AxisError"));
        match class.and_then(|class| class.call1((text.clone(),))) {
            Ok(error) => PyErr::from_value(error),
            Err(_) => PyValueError::new_err(text),
        }
    })
}
