//! Sums by key on the GPU: a pass's values and slots as the kernels read them
//! (shaders/keyed_*.wgsl), and the slots' counters back as a key table. The host gives each
//! element its slot: its key's distance from the pass's lowest key where the keys span no more
//! slots than the pass has elements, else its key's rank among the pass's distinct keys.

use bytemuck::{Pod, Zeroable};

use super::array::{Part, partial_bytes};
use super::readback::{Dispatch, limbs_to_u128};
use crate::Error;
use crate::array::{Dtype, unbias};
use crate::cpu::by_key::{ordered_keys, range};
use crate::engine::ArrayBytes;
use crate::reduce::keys::{KeyTable, ranks};
use crate::reduce::sums::Sums;
use crate::total::ArrayTotal;

/// The shaders' `Params` (keyed_params.wgsl).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, Pod, Zeroable)]
struct Params {
    slots_word: u32,
    first: u32,
    count: u32,
    per_invocation: u32,
}

/// Bytes of [`Params`].
pub(crate) const PARAMS_BYTES: u64 = size_of::<Params>() as u64;

/// Most elements one invocation adds (its running sum's bound, element.wgsl).
const MAX_PER_INVOCATION: u64 = 1 << 16;

/// Bytes of a slot's counters: integers' biased sum (4 words) and count (2); floats' partial
/// and count (2 words).
pub(crate) const fn slot_bytes(dtype: Dtype) -> u64 {
    if dtype.is_float() {
        partial_bytes(dtype) + 8
    } else {
        24
    }
}

/// Which key each slot of a pass holds.
pub(crate) enum SlotKeys {
    /// Slot k holds key `low + k` (order-preserving bits).
    Dense { low: u64, slots: u64 },
    /// Slot k holds `keys[k]`.
    Sparse(Vec<u64>),
}

impl SlotKeys {
    pub(crate) fn len(&self) -> u64 {
        match self {
            SlotKeys::Dense { slots, .. } => *slots,
            SlotKeys::Sparse(keys) => keys.len() as u64,
        }
    }
}

/// One pass of a sum by key: the bytes the binding holds (the values, then one u32 slot per
/// element from word `slots_word` on), and the keys of the slots.
pub(crate) struct Pass {
    pub(crate) bytes: Vec<u8>,
    pub(crate) elements: u64,
    slots_word: u32,
    pub(crate) keys: SlotKeys,
}

impl Pass {
    /// The pass of `values` (little-endian) by `keys` (as many elements).
    pub(crate) fn new(keys: ArrayBytes<'_>, values: &[u8]) -> Pass {
        let ordered = ordered_keys(keys);
        let elements = ordered.len() as u64;
        let (slots, slot_keys) = match range(&ordered) {
            Some((low, high)) if high - low < elements => {
                let slots = ordered.iter().map(|&key| (key - low) as u32).collect();
                (
                    slots,
                    SlotKeys::Dense {
                        low,
                        slots: high - low + 1,
                    },
                )
            }
            _ => {
                let (slots, keys) = ranks(&ordered);
                (slots, SlotKeys::Sparse(keys))
            }
        };
        let slots_word = values.len().div_ceil(4);
        let mut bytes = Vec::with_capacity(4 * (slots_word + slots.len()));
        bytes.extend_from_slice(values);
        bytes.resize(4 * slots_word, 0);
        bytes.extend_from_slice(bytemuck::cast_slice(&slots));
        Pass {
            bytes,
            elements,
            slots_word: slots_word as u32,
            keys: slot_keys,
        }
    }

    /// The dispatch that adds the pass, spread over about `width` invocations.
    pub(crate) fn dispatch(&self, workgroup_size: u32) -> Dispatch {
        let size = u64::from(workgroup_size);
        // Enough elements an invocation that the workgroups fit one dispatch's dimension.
        let per = self
            .elements
            .div_ceil(size * u64::from(super::grouped::MAX_WORKGROUPS))
            .clamp(16, MAX_PER_INVOCATION);
        let params = Params {
            slots_word: self.slots_word,
            first: 0,
            count: self.elements as u32,
            per_invocation: per as u32,
        };
        Dispatch {
            params: bytemuck::bytes_of(&params).to_vec(),
            workgroups: self.elements.div_ceil(per * size).max(1) as u32,
            partials: self.keys.len() as u32,
        }
    }

    /// The slots' counters (`partials`, [`slot_bytes`] each) as a key table.
    pub(crate) fn table(
        &self,
        key_dtype: Dtype,
        value_dtype: Dtype,
        partials: &[u8],
    ) -> Result<KeyTable, Error> {
        let size = slot_bytes(value_dtype) as usize;
        let slots = partials.len() / size;
        let mut sums = Sums::new(value_dtype, slots);
        let mut counts = Vec::with_capacity(slots);
        for (k, slot) in partials.chunks_exact(size).enumerate() {
            let (state, count) = slot.split_at(size - 8);
            let count = u64::from_le_bytes(count.try_into().expect("8 bytes"));
            counts.push(count);
            if count == 0 {
                continue;
            }
            let total = if value_dtype.is_float() {
                Part::total(value_dtype, vec![Part::decode(value_dtype, state)], count)?
            } else {
                let biased = limbs_to_u128(state);
                ArrayTotal::Int(crate::ExactIntSum::from_parts(
                    unbias(value_dtype, biased, count),
                    count,
                )?)
            };
            sums.add_total(k, &total);
        }
        Ok(match &self.keys {
            SlotKeys::Dense { low, .. } => {
                KeyTable::dense(key_dtype, value_dtype, *low, sums, counts)
            }
            SlotKeys::Sparse(keys) => KeyTable::sparse(key_dtype, value_dtype, keys, sums, counts),
        })
    }
}
