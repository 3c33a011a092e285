//! Sums along axes and by key on the engine's GPU: the request's host data fed a chunk at a
//! time (and, for a check, shown to the CPU twin on the way), data on the device summed where it
//! lives.

use super::grouped::{add_chunk, c_order_feed, stream_feed};
use super::{Engine, Source};
use crate::Error;
use crate::array::Dtype;
use crate::control::Control;
use crate::cpu::CpuTwin;
use crate::engine::ArrayBytes;
use crate::gpu::ring::Chunks;
use crate::reduce::keys::KeyTable;
use crate::reduce::sums::Sums;
use crate::reduce::walk::Walk;

impl Engine {
    /// A sum along axes on the GPU (opened here if it is not yet), and `checker`'s sum of the
    /// same chunks.
    pub(super) async fn along_gpu(
        &self,
        source: &mut Source<'_>,
        walk: &Walk,
        dtype: Dtype,
        checker: Option<CpuTwin>,
        control: &Control<'_>,
    ) -> Result<(Sums, Option<Sums>), Error> {
        let context = self.open_gpu()?;
        let mut sums = Sums::new(dtype, walk.outputs as usize);
        if source.on_device() {
            context
                .along_device(source, walk, &mut sums, control)
                .await?;
            return Ok((sums, None));
        }
        let mut checked = checker.map(|_| Sums::new(dtype, walk.outputs as usize));
        let mut gather = None;
        let chunk_bytes = context.array_chunk_bytes() as usize;
        let (feed, _) = stream_feed(source, &mut gather, chunk_bytes)?;
        let mut chunks = Chunks::new(feed);
        let quiet = control.without_progress();
        let mut first = 0u64;
        let mut tap = |chunk: &[u8]| -> Result<(), Error> {
            if let (Some(twin), Some(checked)) = (&checker, &mut checked) {
                add_chunk(twin, walk, dtype, chunk, first, checked, &quiet)?;
            }
            first += (chunk.len() / dtype.size()) as u64;
            Ok(())
        };
        context
            .along_chunks(&mut chunks, walk, &mut sums, &mut tap, control)
            .await?;
        Ok((sums, checked))
    }

    /// A sum by key on the GPU (opened here if it is not yet), and `checker`'s sum of the same
    /// chunks.
    pub(super) async fn by_key_gpu(
        &self,
        values: &mut Source<'_>,
        keys: &mut Source<'_>,
        checker: Option<CpuTwin>,
        control: &Control<'_>,
    ) -> Result<(KeyTable, Option<KeyTable>), Error> {
        let context = self.open_gpu()?;
        let value_dtype = values.dtype().expect("checked when planned");
        let key_dtype = keys.dtype().expect("checked when planned");
        let total = values.count().unwrap_or(0) as u64;
        let mut table = KeyTable::new(key_dtype, value_dtype);
        let mut checked = checker.map(|_| KeyTable::new(key_dtype, value_dtype));
        let (mut key_gather, mut value_gather) = (None, None);
        let mut key_chunks = Chunks::new(c_order_feed(keys, &mut key_gather)?);
        let mut value_chunks = Chunks::new(c_order_feed(values, &mut value_gather)?);
        let quiet = control.without_progress();
        let mut tap = |keys: ArrayBytes<'_>, values: ArrayBytes<'_>| -> Result<(), Error> {
            if let (Some(twin), Some(checked)) = (&checker, &mut checked) {
                twin.add_by_key(keys, values, checked, &quiet)?;
            }
            Ok(())
        };
        context
            .by_key_chunks(
                &mut value_chunks,
                &mut key_chunks,
                &mut table,
                total,
                &mut tap,
                control,
            )
            .await?;
        Ok((table, checked))
    }
}
