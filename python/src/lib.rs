//! The native half of the `gpusum` Python package (python/gpusum/): exact sums of numpy arrays,
//! ranges and files on the library's engine, and its exact accumulators. It converts Python's and
//! numpy's types, calls the engine, and maps the library's errors in one place; the planning, the
//! formats and the arithmetic are the library's.

mod accumulators;
mod arrays;
mod engine;
mod errors;
mod reduce;
mod run;

use pyo3::prelude::*;

/// Every adapter wgpu finds, as `gpusum adapters --json` describes them: a list of dicts.
#[pyfunction]
fn adapters(py: Python<'_>) -> PyResult<Py<PyAny>> {
    let reports: Vec<gpusum::gpu::AdapterReport> = py.detach(|| {
        let instance = gpusum::gpu::instance();
        gpusum::gpu::compute_adapters(&instance)
            .iter()
            .map(gpusum::gpu::AdapterReport::of)
            .collect()
    });
    let text = serde_json::to_string(&reports)
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(e.to_string()))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

#[pymodule]
fn _gpusum(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add("Error", py.get_type::<errors::GpusumError>())?;
    module.add("GpuError", py.get_type::<errors::GpuError>())?;
    module.add_class::<engine::Engine>()?;
    module.add_class::<accumulators::ExactSum>()?;
    module.add_class::<accumulators::ExactFloatSum>()?;
    module.add_function(wrap_pyfunction!(engine::sum, module)?)?;
    module.add_function(wrap_pyfunction!(engine::sum_by, module)?)?;
    module.add_function(wrap_pyfunction!(engine::sum_range, module)?)?;
    module.add_function(wrap_pyfunction!(engine::sum_file, module)?)?;
    module.add_function(wrap_pyfunction!(adapters, module)?)?;
    Ok(())
}
