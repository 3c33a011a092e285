//! The CPU entry points before [`CpuTwin`](super::CpuTwin) named them alike: each one line over
//! it, kept so that code written against them still builds.
#![allow(deprecated)]

use std::io::Read;

use super::{CpuTwin, Threads};
use crate::Error;
use crate::array::{ExactIntSum, IntSlice};
use crate::control::Control;
use crate::input::ArrayReader;
use crate::range::SumRange;
use crate::total::{ArrayTotal, FloatSlice};

fn twin(parallel: bool) -> CpuTwin {
    CpuTwin::new(if parallel { Threads::All } else { Threads::One })
}

/// `range` on the rayon pool.
///
/// # Errors
/// As for [`CpuTwin::sum_range`].
#[deprecated(note = "use CpuTwin::new(Threads::All).sum_range")]
pub fn sum_parallel(range: SumRange, control: &Control) -> Result<i128, Error> {
    twin(true).sum_range(range, control)
}

/// `range` on the calling thread.
///
/// # Errors
/// As for [`CpuTwin::sum_range`].
#[deprecated(note = "use CpuTwin::new(Threads::One).sum_range")]
pub fn sum_sequential(range: SumRange, control: &Control) -> Result<i128, Error> {
    twin(false).sum_range(range, control)
}

/// `data` on the rayon pool.
///
/// # Errors
/// As for [`CpuTwin::sum_array`].
#[deprecated(note = "use CpuTwin::new(Threads::All).sum_array")]
pub fn sum_ints(data: IntSlice<'_>, control: &Control) -> Result<ExactIntSum, Error> {
    int(twin(true).sum_array(data.into(), control)?)
}

/// `data` on the calling thread.
///
/// # Errors
/// As for [`CpuTwin::sum_array`].
#[deprecated(note = "use CpuTwin::new(Threads::One).sum_array")]
pub fn sum_ints_sequential(data: IntSlice<'_>, control: &Control) -> Result<ExactIntSum, Error> {
    int(twin(false).sum_array(data.into(), control)?)
}

/// `data` on the pool (`parallel`) or the calling thread.
///
/// # Errors
/// As for [`CpuTwin::sum_array`].
#[deprecated(note = "use CpuTwin::sum_array")]
pub fn sum_floats(
    data: FloatSlice<'_>,
    parallel: bool,
    control: &Control,
) -> Result<ArrayTotal, Error> {
    twin(parallel).sum_array(data.into(), control)
}

/// Everything `reader` holds, on the pool (`parallel`) or the calling thread.
///
/// # Errors
/// As for [`CpuTwin::sum_reader`].
#[deprecated(note = "use CpuTwin::sum_reader")]
pub fn sum_reader<R: Read>(
    reader: &mut ArrayReader<R>,
    parallel: bool,
    control: &Control,
) -> Result<ArrayTotal, Error> {
    twin(parallel).sum_reader(reader, control)
}

fn int(total: ArrayTotal) -> Result<ExactIntSum, Error> {
    total.int().ok_or_else(|| Error::InvalidArray {
        reason: "an integer slice summed to a float total".into(),
    })
}
