//! Sums along axes and by key on the engine's GPU.

use super::{Engine, Source};
use crate::Error;
use crate::array::Dtype;
use crate::control::Control;
use crate::reduce::keys::KeyTable;
use crate::reduce::outputs::Sums;
use crate::reduce::walk::Walk;

impl Engine {
    /// A sum along axes on the GPU.
    pub(super) async fn along_gpu(
        &self,
        _source: &mut Source<'_>,
        _walk: &Walk,
        _dtype: Dtype,
        _control: &Control<'_>,
    ) -> Result<Sums, Error> {
        Err(Error::InvalidArray {
            reason: "not yet".into(),
        })
    }

    /// A sum by key on the GPU.
    pub(super) async fn by_key_gpu(
        &self,
        _values: &mut Source<'_>,
        _keys: &mut Source<'_>,
        _control: &Control<'_>,
    ) -> Result<KeyTable, Error> {
        Err(Error::InvalidArray {
            reason: "not yet".into(),
        })
    }
}
