//! `gpusum.Engine`: the library's engine, opened once and shared by threads, and the module's
//! `sum`, `sum_range` and `sum_file`, each a call on the default engine of its backend and
//! adapter. Every sum is planned, then run through [`run::sum`](crate::run::sum).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use gpusum::engine::{Outcome, ProfileChoice, Request, Source};
use gpusum::input::{ArrayReader, InputHints};
use gpusum::{ArrayTotal, BackendChoice, EngineOptions, Place, Plan, SumRange};

use crate::arrays::{Elements, dtype_of, int, number};
use crate::errors::to_py;
use crate::run::{self, PerProcess};

/// A place to run exact sums, opened once and reused: `backend` is `"auto"` (each sum where it
/// finishes first: one CPU thread, all cores, or a hardware GPU), `"gpu"`, `"cpu"` or `"seq"`;
/// `adapter` picks the first GPU adapter whose "name (api)" contains the text (under `"auto"` it
/// sends the sums to that GPU). Thread-safe; calls on one GPU take turns.
#[pyclass(module = "gpusum", frozen)]
pub(crate) struct Engine {
    options: EngineOptions,
    engine: PerProcess<gpusum::Engine>,
    /// The plan of the last sum.
    last: Mutex<Option<Plan>>,
}

impl Engine {
    pub(crate) fn open(py: Python<'_>, backend: &str, adapter: Option<String>) -> PyResult<Self> {
        let choice = BackendChoice::ALL
            .into_iter()
            .find(|choice| choice.name() == backend)
            .ok_or_else(|| {
                let names: Vec<&str> = BackendChoice::ALL.iter().map(|c| c.name()).collect();
                PyValueError::new_err(format!(
                    "unknown backend {backend:?}: use {}",
                    names.join(", ")
                ))
            })?;
        if adapter
            .as_deref()
            .is_some_and(|text| text.trim().is_empty())
        {
            return Err(PyValueError::new_err(
                "adapter needs text to look for in an adapter's name",
            ));
        }
        if adapter.is_some() && !choice.may_use_gpu() {
            return Err(PyValueError::new_err(format!(
                "adapter chooses a GPU, but backend {backend:?} sums on the CPU"
            )));
        }
        let options = EngineOptions::new(choice).with_profile(ProfileChoice::Saved);
        let options = match adapter {
            Some(adapter) => options.with_adapter(adapter),
            None => options,
        };
        let engine = Self {
            options,
            engine: PerProcess::new(),
            last: Mutex::new(None),
        };
        // Opened here, so that a GPU asked for and missing is an error now, not at the first sum.
        engine.engine(py)?;
        Ok(engine)
    }

    /// This process's library engine (a child after `fork` opens its own).
    fn engine(&self, py: Python<'_>) -> PyResult<std::sync::Arc<gpusum::Engine>> {
        py.detach(|| {
            self.engine
                .get(|| run::in_pool(|| gpusum::Engine::open(&self.options))?.map_err(to_py))
        })
    }

    /// Plans `request`, runs it with the GIL released, and remembers the plan.
    pub(crate) fn run<'a>(
        &self,
        py: Python<'_>,
        timeout: Option<f64>,
        request: impl Fn() -> Request<'a> + Send + Sync,
    ) -> PyResult<Outcome> {
        let engine = self.engine(py)?;
        let plan = engine.plan(&request()).map_err(to_py)?;
        let count = plan_count(&request());
        let timeout = run::deadline(timeout, count)?;
        let pool = uses_pool(&plan, count);
        let outcome = run::sum(py, plan.estimate, timeout, pool, |control| {
            engine.run(request(), &plan, control)
        })?;
        *self
            .last
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(outcome.plan.clone());
        Ok(outcome)
    }

    pub(crate) fn sum_total(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        timeout: Option<f64>,
    ) -> PyResult<ArrayTotal> {
        self.sum_elements(py, &Elements::of(x)?, timeout)
    }

    /// The exact sum of every element of an array already looked at.
    pub(crate) fn sum_elements(
        &self,
        py: Python<'_>,
        elements: &Elements<'_>,
        timeout: Option<f64>,
    ) -> PyResult<ArrayTotal> {
        let view = elements.view().map_err(to_py)?;
        let outcome = self.run(py, timeout, || Request::new(Source::strided(view.clone())))?;
        Ok(outcome.total)
    }
}

/// Whether a sum runs in the process's pool: on the CPU's threads, and long enough that the
/// twin splits it (shorter ones run on the calling thread: entering a pool costs microseconds).
fn uses_pool(plan: &Plan, count: u128) -> bool {
    plan.place == Place::Cpu && count >= u128::from(gpusum::cpu::SERIAL_ELEMENTS)
}

/// Elements of a request, for its default deadline.
fn plan_count(request: &Request<'_>) -> u128 {
    request.source.count().unwrap_or(0)
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (backend = "auto", adapter = None))]
    fn new(py: Python<'_>, backend: &str, adapter: Option<String>) -> PyResult<Self> {
        Self::open(py, backend, adapter)
    }

    /// The exact sum of the elements of `x` (a numpy array, or anything `numpy.asarray` takes:
    /// any shape and strides, either byte order), as numpy spells it. With `axis=None`, every
    /// element: an `int` for integers and bools, a `numpy.float32` or `float` for floats, the
    /// exact sum rounded once. With an axis or a tuple of axes (negative ones count from the
    /// end), an array of one sum per index of the other axes (`keepdims` keeps the summed axes
    /// as length 1): integers as an object array of Python ints, exact, or in `dtype` (an
    /// integer type, `OverflowError` for a sum it cannot hold, never wrapped); floats in the
    /// input's type. `timeout` bounds it in seconds (default: 10 s plus 1 s per 5e7 elements);
    /// `TimeoutError` when it passes.
    #[pyo3(signature = (x, axis = None, *, dtype = None, keepdims = false, timeout = None))]
    fn sum(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        axis: Option<&Bound<'_, PyAny>>,
        dtype: Option<&Bound<'_, PyAny>>,
        keepdims: bool,
        timeout: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        crate::reduce::sum(self, py, x, axis, dtype, keepdims, timeout)
    }

    /// The exact sum of `values` for each distinct key of `keys` (integers, one per value, in
    /// C order): `(unique_keys, sums)`, the keys ascending in their own type, the sums as
    /// `sum` gives them along an axis; with `return_counts`, `(unique_keys, sums, counts)`.
    /// `TypeError` for float keys, `ValueError` for keys of another length.
    #[pyo3(signature = (keys, values, *, return_counts = false, timeout = None))]
    fn sum_by(
        &self,
        py: Python<'_>,
        keys: &Bound<'_, PyAny>,
        values: &Bound<'_, PyAny>,
        return_counts: bool,
        timeout: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        crate::reduce::sum_by(self, py, keys, values, return_counts, timeout)
    }

    /// The exact sum of every integer of the inclusive range [`start`, `end`] (empty, 0, when
    /// `start > end`); `OverflowError` for bounds outside int64.
    #[pyo3(signature = (start, end, *, timeout = None))]
    fn sum_range(
        &self,
        py: Python<'_>,
        start: i64,
        end: i64,
        timeout: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let outcome = self.run(py, timeout, || Request::new(SumRange::new(start, end)))?;
        int(py, outcome.total.int_sum().unwrap_or_default())
    }

    /// The exact sum of the array in the file at `path`: a `.npy` file (which gives its own
    /// type), or raw data of `dtype` (`"int32"`, `numpy.float64`, ...), little-endian unless
    /// `big_endian`. Read in chunks, so a file larger than memory sums in bounded memory.
    #[pyo3(signature = (path, *, dtype = None, big_endian = false, timeout = None))]
    fn sum_file(
        &self,
        py: Python<'_>,
        path: PathBuf,
        dtype: Option<&Bound<'_, PyAny>>,
        big_endian: bool,
        timeout: Option<f64>,
    ) -> PyResult<Py<PyAny>> {
        let dtype = dtype.map(dtype_of).transpose()?;
        let hints = InputHints::auto(dtype).with_big_endian(big_endian);
        let reader = Mutex::new(
            py.detach(|| ArrayReader::open(&path, hints))
                .map_err(to_py)?,
        );
        let total = {
            let engine = self.engine(py)?;
            let mut planned = reader.lock().unwrap_or_else(|p| p.into_inner());
            let plan = engine
                .plan(&Request::new(Source::Reader(&mut *planned)))
                .map_err(to_py)?;
            let count = planned.format().count.map_or(u128::MAX, u128::from);
            drop(planned);
            let timeout = run::deadline(timeout, count.min(u128::from(u64::MAX)))?;
            let pool = uses_pool(&plan, count);
            let outcome = run::sum(py, plan.estimate, timeout, pool, |control| {
                let mut reader = reader.lock().unwrap_or_else(|p| p.into_inner());
                engine.run(Request::new(Source::Reader(&mut *reader)), &plan, control)
            })?;
            *self.last.lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome.plan);
            outcome.total
        };
        number(py, &total)
    }

    /// Where the last sum ran: `"gpu"`, `"cpu"` or `"seq"`; None before the first.
    #[getter]
    fn place(&self) -> Option<&'static str> {
        self.last_plan().map(|plan| plan.place.name())
    }

    /// Why the last sum ran there, in one sentence; None before the first.
    #[getter]
    fn reason(&self) -> Option<String> {
        self.last_plan().map(|plan| plan.to_string())
    }

    /// The GPU adapter, as "name (api)", once the engine has opened one; else None.
    #[getter]
    fn adapter(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self
            .engine(py)?
            .gpu()
            .map(|context| context.adapter_label()))
    }

    /// Why `"auto"` moved to the CPU for good (no adapter, or a GPU that failed), or None.
    #[getter]
    fn fallback(&self, py: Python<'_>) -> PyResult<Option<String>> {
        Ok(self.engine(py)?.fallback().map(ToString::to_string))
    }

    fn __repr__(&self) -> String {
        match &self.options.adapter {
            Some(adapter) => format!(
                "gpusum.Engine(backend={:?}, adapter={adapter:?})",
                self.options.backend.name()
            ),
            None => format!("gpusum.Engine(backend={:?})", self.options.backend.name()),
        }
    }
}

impl Engine {
    fn last_plan(&self) -> Option<Plan> {
        self.last.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// A default engine's key: its backend and adapter.
type Key = (String, Option<String>);

/// The module's engines, one per backend and adapter, opened at first use.
static DEFAULTS: Mutex<Option<HashMap<Key, Py<Engine>>>> = Mutex::new(None);

/// The engine the module's functions use for `backend` and `adapter`.
pub(crate) fn default_engine(
    py: Python<'_>,
    backend: &str,
    adapter: Option<String>,
) -> PyResult<Py<Engine>> {
    let key = (backend.to_owned(), adapter.clone());
    let known = DEFAULTS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_or_insert_with(HashMap::new)
        .get(&key)
        .map(|engine| engine.clone_ref(py));
    if let Some(engine) = known {
        return Ok(engine);
    }
    let engine = Py::new(py, Engine::open(py, backend, adapter)?)?;
    let mut defaults = DEFAULTS.lock().unwrap_or_else(|p| p.into_inner());
    let map = defaults.get_or_insert_with(HashMap::new);
    Ok(map.entry(key).or_insert(engine).clone_ref(py))
}

/// `gpusum.sum(x, axis=None, *, dtype=None, keepdims=False, backend="auto", adapter=None,
/// timeout=None)`: the exact sum of `x`, whole or along axes, on the default engine (see
/// `Engine.sum`).
#[pyfunction]
#[pyo3(signature = (x, axis = None, *, dtype = None, keepdims = false, backend = "auto", adapter = None, timeout = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sum(
    py: Python<'_>,
    x: &Bound<'_, PyAny>,
    axis: Option<&Bound<'_, PyAny>>,
    dtype: Option<&Bound<'_, PyAny>>,
    keepdims: bool,
    backend: &str,
    adapter: Option<String>,
    timeout: Option<f64>,
) -> PyResult<Py<PyAny>> {
    default_engine(py, backend, adapter)?
        .get()
        .sum(py, x, axis, dtype, keepdims, timeout)
}

/// `gpusum.sum_by(keys, values, *, return_counts=False, backend="auto", adapter=None,
/// timeout=None)`: the exact sum of `values` per distinct key on the default engine (see
/// `Engine.sum_by`).
#[pyfunction]
#[pyo3(signature = (keys, values, *, return_counts = false, backend = "auto", adapter = None, timeout = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sum_by(
    py: Python<'_>,
    keys: &Bound<'_, PyAny>,
    values: &Bound<'_, PyAny>,
    return_counts: bool,
    backend: &str,
    adapter: Option<String>,
    timeout: Option<f64>,
) -> PyResult<Py<PyAny>> {
    default_engine(py, backend, adapter)?
        .get()
        .sum_by(py, keys, values, return_counts, timeout)
}

/// `gpusum.sum_range(start, end, *, backend="auto", adapter=None, timeout=None)`: the exact sum
/// of the inclusive range on the default engine (see `Engine.sum_range`).
#[pyfunction]
#[pyo3(signature = (start, end, *, backend = "auto", adapter = None, timeout = None))]
pub(crate) fn sum_range(
    py: Python<'_>,
    start: i64,
    end: i64,
    backend: &str,
    adapter: Option<String>,
    timeout: Option<f64>,
) -> PyResult<Py<PyAny>> {
    default_engine(py, backend, adapter)?
        .get()
        .sum_range(py, start, end, timeout)
}

/// `gpusum.sum_file(path, *, dtype=None, big_endian=False, backend="auto", adapter=None,
/// timeout=None)`: the exact sum of a `.npy` or raw file, streamed (see `Engine.sum_file`).
#[pyfunction]
#[pyo3(signature = (path, *, dtype = None, big_endian = false, backend = "auto", adapter = None, timeout = None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn sum_file(
    py: Python<'_>,
    path: PathBuf,
    dtype: Option<&Bound<'_, PyAny>>,
    big_endian: bool,
    backend: &str,
    adapter: Option<String>,
    timeout: Option<f64>,
) -> PyResult<Py<PyAny>> {
    default_engine(py, backend, adapter)?
        .get()
        .sum_file(py, path, dtype, big_endian, timeout)
}
