//! Sums along axes and by key on the engine's GPU: the request's host data fed a chunk at a
//! time, data on the device summed where it lives.

use super::grouped::{c_order_feed, stream_feed};
use super::{Engine, Source};
use crate::Error;
use crate::array::Dtype;
use crate::control::Control;
use crate::gpu::ring::Chunks;
use crate::reduce::keys::KeyTable;
use crate::reduce::outputs::Sums;
use crate::reduce::walk::Walk;

impl Engine {
    /// A sum along axes on the GPU (opened here if it is not yet).
    pub(super) async fn along_gpu(
        &self,
        source: &mut Source<'_>,
        walk: &Walk,
        dtype: Dtype,
        control: &Control<'_>,
    ) -> Result<Sums, Error> {
        let context = self.open_gpu()?;
        let mut sums = Sums::new(dtype, walk.outputs as usize);
        if source.on_device() {
            context
                .along_device(source, walk, &mut sums, control)
                .await?;
            return Ok(sums);
        }
        let mut gather = None;
        let chunk_bytes = context.array_chunk_bytes() as usize;
        let (feed, _) = stream_feed(source, &mut gather, chunk_bytes)?;
        let mut chunks = Chunks::new(feed);
        context
            .along_chunks(&mut chunks, walk, &mut sums, control)
            .await?;
        Ok(sums)
    }

    /// A sum by key on the GPU (opened here if it is not yet).
    pub(super) async fn by_key_gpu(
        &self,
        values: &mut Source<'_>,
        keys: &mut Source<'_>,
        control: &Control<'_>,
    ) -> Result<KeyTable, Error> {
        let context = self.open_gpu()?;
        let value_dtype = values.dtype().expect("checked when planned");
        let key_dtype = keys.dtype().expect("checked when planned");
        let total = values.count().unwrap_or(0) as u64;
        let mut table = KeyTable::new(key_dtype, value_dtype);
        let (mut key_gather, mut value_gather) = (None, None);
        let mut key_chunks = Chunks::new(c_order_feed(keys, &mut key_gather)?);
        let mut value_chunks = Chunks::new(c_order_feed(values, &mut value_gather)?);
        context
            .by_key_chunks(
                &mut value_chunks,
                &mut key_chunks,
                &mut table,
                total,
                control,
            )
            .await?;
        Ok(table)
    }
}
