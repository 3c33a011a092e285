//! `sum` along axes and `sum_by`: numpy's arguments as the engine's requests, and the engine's
//! outputs as numpy arrays. Integers come back as Python ints (exact) in an object array, or in
//! an integer type that holds them (never wrapped); floats in the input's type, each the exact sum
//! rounded once.

use pyo3::exceptions::{PyOverflowError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};

use gpusum::engine::{Request, Source};
use gpusum::reduce::Outputs;

use crate::arrays::{Elements, Ints, int, number};
use crate::engine::Engine;
use crate::errors::to_py;

/// The axes numpy's `axis` names: an int, or a tuple (or list) of ints.
fn axes_of(axis: &Bound<'_, PyAny>) -> PyResult<Vec<i64>> {
    if let Ok(one) = axis.extract::<i64>() {
        return Ok(vec![one]);
    }
    axis.extract::<Vec<i64>>().map_err(|_| {
        PyTypeError::new_err(format!(
            "axis must be None, an int or a tuple of ints, not {}",
            axis.get_type()
                .name()
                .map_or_else(|_| "that".into(), |n| n.to_string())
        ))
    })
}

pub(crate) fn sum(
    engine: &Engine,
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    timeout: Option<f64>,
) -> PyResult<Py<PyAny>> {
    let elements = Elements::of(x)?;
    let ndim = elements.shape().len();
    let axes = match axis {
        Some(axis) if !axis.is_none() => axes_of(axis)?,
        _ if !keepdims => {
            let total = engine.sum_elements(py, &elements, timeout)?;
            let value = number(py, &total)?;
            return match dtype {
                Some(dtype) => converted_scalar(py, value, dtype, &elements),
                None => Ok(value),
            };
        }
        _ => (0..ndim as i64).collect(),
    };
    let view = elements.view().map_err(to_py)?;
    let outcome = engine.run(py, timeout, || {
        Request::along(Source::Strided(view.clone()), &axes)
    })?;
    let outputs = outcome.outputs.expect("a sum along axes has outputs");
    let mut shape: Vec<usize> = outputs
        .shape()
        .unwrap_or_default()
        .iter()
        .map(|&n| n as usize)
        .collect();
    if keepdims {
        // The axes were checked by the engine: each names one of the `ndim`.
        let mut summed: Vec<usize> = axes
            .iter()
            .map(|&a| a.rem_euclid(ndim as i64) as usize)
            .collect();
        summed.sort_unstable();
        for a in summed {
            shape.insert(a, 1);
        }
    }
    array(py, &outputs, &shape, dtype, &elements)
}

pub(crate) fn sum_by(
    engine: &Engine,
    py: Python<'_>,
    keys: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    return_counts: bool,
    timeout: Option<f64>,
) -> PyResult<Py<PyAny>> {
    let (keys, values) = (Elements::of(keys)?, Elements::of(values)?);
    let (key_view, value_view) = (keys.view().map_err(to_py)?, values.view().map_err(to_py)?);
    let outcome = engine.run(py, timeout, || {
        Request::by_key(
            Source::Strided(value_view.clone()),
            Source::Strided(key_view.clone()),
        )
    })?;
    let outputs = outcome.outputs.expect("a sum by key has outputs");
    let numpy = py.import("numpy")?;
    let unique: Vec<Py<PyAny>> = match outputs.keys() {
        Some(keys) => keys
            .iter()
            .map(|key| int(py, key))
            .collect::<PyResult<_>>()?,
        None => Vec::new(),
    };
    let unique = numpy.call_method1("array", (PyList::new(py, unique)?, keys.numpy_name()))?;
    let sums = array(py, &outputs, &[outputs.len()], None, &values)?;
    let mut parts = vec![unique.unbind(), sums];
    if return_counts {
        let counts: Vec<u64> = (0..outputs.len()).map(|i| outputs.count(i)).collect();
        parts.push(numpy.call_method1("array", (counts, "int64"))?.unbind());
    }
    Ok(PyTuple::new(py, parts)?.into_any().unbind())
}

/// The outputs as an array of `shape`: floats in the input's type; integers as Python ints in
/// an object array, or in `dtype`.
fn array(
    py: Python<'_>,
    outputs: &Outputs,
    shape: &[usize],
    dtype: Option<&Bound<'_, PyAny>>,
    elements: &Elements<'_>,
) -> PyResult<Py<PyAny>> {
    let numpy = py.import("numpy")?;
    let flat = if outputs.dtype().is_float() {
        if let Some(dtype) = dtype {
            let asked = numpy.call_method1("dtype", (dtype,))?;
            let own = numpy.call_method1("dtype", (elements.numpy_name(),))?;
            if !asked.eq(&own)? {
                return Err(PyTypeError::new_err(format!(
                    "gpusum rounds the exact sum of {} values once, to {}; dtype {} would round \
                     it again",
                    elements.numpy_name(),
                    elements.numpy_name(),
                    asked.str()?
                )));
            }
        }
        // Each rounded value, widened to f64 where it is an f32 (exactly), then back.
        let values: Vec<f64> = (0..outputs.len())
            .map(|i| outputs.rounded(i).unwrap_or(f64::NAN))
            .collect();
        let array = numpy::PyArray1::from_vec(py, values).into_any();
        match elements.numpy_name() {
            "float64" => array,
            name => array.call_method1("astype", (name,))?,
        }
    } else {
        let target = dtype
            .map(|dtype| numpy.call_method1("dtype", (dtype,)))
            .transpose()?;
        match target {
            Some(target) => int_array(py, outputs, &target)?,
            // Python ints straight into the object array's slots: a list for numpy to look
            // through cost as much as the ints.
            None => {
                let mut ints = Ints::new(py);
                let mut values = Vec::with_capacity(outputs.len());
                for i in 0..outputs.len() {
                    values.push(ints.int(outputs.int_sum(i).unwrap_or_default())?);
                }
                numpy::PyArray1::from_vec(py, values).into_any()
            }
        }
    };
    let shaped = flat.call_method1("reshape", (shape.to_vec(),))?;
    // Every axis summed away: numpy's scalar (a Python int for the object array), as numpy gives.
    if shape.is_empty() {
        return Ok(shaped.get_item(())?.unbind());
    }
    Ok(shaped.unbind())
}

/// Integer outputs in `target`: an integer type from 64-bit integers, after checking that each
/// fits (no Python int on the way); any other type as numpy converts Python ints.
fn int_array<'py>(
    py: Python<'py>,
    outputs: &Outputs,
    target: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    check_fits(py, target, outputs)?;
    let sums = (0..outputs.len()).map(|i| outputs.int_sum(i).unwrap_or_default());
    let kind: String = target.getattr("kind")?.extract()?;
    let unsigned = match kind.as_str() {
        "i" => false,
        "u" => true,
        _ => {
            let mut ints = Ints::new(py);
            let values: Vec<Py<PyAny>> = sums.map(|sum| ints.int(sum)).collect::<PyResult<_>>()?;
            return py
                .import("numpy")?
                .call_method1("array", (PyList::new(py, values)?, target));
        }
    };
    // check_fits has put every sum in the target's range, which a 64-bit integer of the same
    // signedness holds: the casts below are exact, and so is astype's.
    let wide = if unsigned {
        numpy::PyArray1::from_vec(py, sums.map(|sum| sum as u64).collect()).into_any()
    } else {
        numpy::PyArray1::from_vec(py, sums.map(|sum| sum as i64).collect()).into_any()
    };
    wide.call_method1("astype", (target,))
}

/// Refuses an integer `target` type that cannot hold every output.
fn check_fits(py: Python<'_>, target: &Bound<'_, PyAny>, outputs: &Outputs) -> PyResult<()> {
    let kind: String = target.getattr("kind")?.extract()?;
    if !matches!(kind.as_str(), "i" | "u") {
        return Ok(());
    }
    let info = py.import("numpy")?.call_method1("iinfo", (target,))?;
    let (low, high): (i128, i128) = (
        info.getattr("min")?.extract()?,
        info.getattr("max")?.extract()?,
    );
    for i in 0..outputs.len() {
        let value = outputs.int_sum(i).unwrap_or_default();
        if value < low || value > high {
            return Err(PyOverflowError::new_err(format!(
                "the exact sum {value} (output {i}) does not fit {}, which holds {low} to {high}",
                target.str()?
            )));
        }
    }
    Ok(())
}

/// A whole sum in `dtype`, as numpy's `sum(dtype=...)` gives a scalar: an integer sum checked
/// against the type's range; a float sum only in its own type.
fn converted_scalar(
    py: Python<'_>,
    value: Py<PyAny>,
    dtype: &Bound<'_, PyAny>,
    elements: &Elements<'_>,
) -> PyResult<Py<PyAny>> {
    let numpy = py.import("numpy")?;
    let list = PyList::new(py, [value])?;
    let array = numpy.call_method1("array", (list, "object"))?;
    let target = numpy.call_method1("dtype", (dtype,))?;
    let kind: String = target.getattr("kind")?.extract()?;
    if elements.is_float() {
        let own = numpy.call_method1("dtype", (elements.numpy_name(),))?;
        if !target.eq(&own)? {
            return Err(PyTypeError::new_err(format!(
                "gpusum rounds the exact sum of {} values once, to {}",
                elements.numpy_name(),
                elements.numpy_name()
            )));
        }
    } else if matches!(kind.as_str(), "i" | "u") {
        let info = numpy.call_method1("iinfo", (&target,))?;
        let v: i128 = array.get_item(0)?.extract()?;
        let (low, high): (i128, i128) = (
            info.getattr("min")?.extract()?,
            info.getattr("max")?.extract()?,
        );
        if v < low || v > high {
            return Err(PyOverflowError::new_err(format!(
                "the exact sum {v} does not fit {}, which holds {low} to {high}",
                target.str()?
            )));
        }
    }
    Ok(array
        .call_method1("astype", (target,))?
        .get_item(0)?
        .unbind())
}
