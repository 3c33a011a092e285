//! The integer-array workload's CPU twin: the array kernels' algorithm (array_sum_*.wgsl) on
//! the CPU. Each element is biased to an unsigned value (the sign bit flipped), narrow types are
//! summed in u32 lanes, 64-bit values as two 32-bit limbs in u64 lanes; the bias comes off once
//! per call. Written as plain loops that LLVM vectorizes, built per instruction set.

use rayon::prelude::*;

use super::simd::{Lanes, per_isa};
use crate::array::{ByteOrder, Dtype};

/// Bytes one rayon task sums: a multiple of every element size, large enough to amortize the
/// task, small enough to spread a few MiB over every core.
pub(crate) const PIECE_BYTES: usize = 1 << 18;

per_isa! {
    /// The biased sum of `bytes`, whole elements of `dtype` in `order`, fewer than 2^32 of them,
    /// built for `isa`.
    pub(crate) fn biased_sum(dtype: Dtype, order: ByteOrder, bytes: &[u8]) -> u128 = biased_sum_body
}

/// The biased sum of `bytes` on the rayon pool, piece by piece.
pub(crate) fn biased_sum_parallel(
    isa: super::Isa,
    dtype: Dtype,
    order: ByteOrder,
    bytes: &[u8],
) -> u128 {
    // Each piece's sum is below 2^18 * 2^64; all of them below count * 2^64 < 2^127.
    bytes
        .par_chunks(PIECE_BYTES)
        .map(|piece| biased_sum(isa, dtype, order, piece))
        .sum()
}

/// The kernel behind [`biased_sum`]; `V` only selects the instruction set it is built for.
///
/// # Safety
/// Only from code built for `V`'s instruction set.
#[inline(always)]
unsafe fn biased_sum_body<V: Lanes>(dtype: Dtype, order: ByteOrder, bytes: &[u8]) -> u128 {
    debug_assert!(bytes.len().is_multiple_of(dtype.size()));
    debug_assert!(((bytes.len() / dtype.size()) as u64) < 1 << 32);
    let swap = order != ByteOrder::NATIVE;
    match dtype {
        Dtype::I8 => narrow::<u8>(bytes, swap, 0x80),
        Dtype::U8 => narrow::<u8>(bytes, swap, 0),
        Dtype::I16 => narrow::<u16>(bytes, swap, 0x8000),
        Dtype::U16 => narrow::<u16>(bytes, swap, 0),
        Dtype::I32 => words(bytes, swap, 0x8000_0000),
        Dtype::U32 => words(bytes, swap, 0),
        Dtype::I64 => doubles(bytes, swap, 1 << 63),
        Dtype::U64 => doubles(bytes, swap, 0),
        Dtype::F32 | Dtype::F64 => unreachable!("floats are summed by ExactFloatSum"),
    }
}

/// An integer element as stored.
pub(crate) trait Element: bytemuck::Pod + std::ops::BitXor<Output = Self> {
    /// Whether the type is signed.
    const SIGNED: bool;
    fn swap_bytes(self) -> Self;
    /// Its bits, zero-extended (unsigned types) or sign-extended (signed ones) to 64.
    fn widen(self) -> u64;
    /// Its value.
    fn value(self) -> i128;
}

macro_rules! elements {
    ($($ty:ty),*) => {$(
        impl Element for $ty {
            const SIGNED: bool = <$ty>::MIN != 0;
            #[inline(always)]
            fn swap_bytes(self) -> Self {
                <$ty>::swap_bytes(self)
            }
            #[inline(always)]
            fn widen(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn value(self) -> i128 {
                i128::from(self)
            }
        }
    )*};
}

elements!(u8, u16, u32, u64, i8, i16, i32, i64);

/// How far ahead of the elements being added the next ones are asked for (as the float bins do).
const PREFETCH_BYTES: usize = 4096;
/// 64-bit elements added between two groups of requests: eight cache lines.
const PREFETCH_GROUP: usize = 64;

/// Calls `each` on every element of `bytes`, byte-swapped where `swap` says, with loops the
/// compiler can vectorize: straight over the slice where it is aligned, else over byte chunks.
#[inline(always)]
pub(crate) fn for_each<T: Element>(bytes: &[u8], swap: bool, mut each: impl FnMut(T)) {
    match bytemuck::try_cast_slice::<u8, T>(bytes) {
        Ok(values) if swap => values.iter().for_each(|&v| each(v.swap_bytes())),
        // 64-bit elements eight lines at a time, each group asking for the lines 4 KiB ahead.
        // Asking for a whole 4 KiB block at its start (2^26 i64 on the CI-class Xeon: 52 ms on
        // one thread without, 45 with) measured slower on the AMD EPYC draw: 64 requests at
        // once crowd out the loads. There, interleaved in one process: 4096 x 4096 along axis
        // 1 6.2 ms with the block's requests, 4.6 to 4.9 with none, 4.5 to 4.6 spread; 2^24
        // i64 by key 28 to 31, 25 to 28 and 20 to 25 ms. Groups of 128, 256 and 512 elements
        // measured between.
        Ok(values) if size_of::<T>() == 8 => {
            for group in values.chunks(PREFETCH_GROUP) {
                let start = group.as_ptr().cast::<u8>();
                for line in (0..PREFETCH_GROUP * 8).step_by(64) {
                    crate::float::prefetch(start.wrapping_add(PREFETCH_BYTES + line));
                }
                group.iter().for_each(|&v| each(v));
            }
        }
        Ok(values) => values.iter().for_each(|&v| each(v)),
        Err(_) => bytes.chunks_exact(size_of::<T>()).for_each(|chunk| {
            let v: T = bytemuck::pod_read_unaligned(chunk);
            each(if swap { v.swap_bytes() } else { v })
        }),
    }
}

/// 8- and 16-bit elements: u32 lanes over blocks of 2^16 elements (each below 2^16, so a block
/// stays below 2^32), then u64 (fewer than 2^32 elements: below 2^48).
#[inline(always)]
fn narrow<T: Element>(bytes: &[u8], swap: bool, flip: T) -> u128 {
    let block = (1usize << 16) * size_of::<T>();
    let mut total = 0u64;
    for chunk in bytes.chunks(block) {
        let mut sum = 0u32;
        for_each::<T>(chunk, swap, |v| sum += (v ^ flip).widen() as u32);
        total += sum as u64;
    }
    total as u128
}

/// 32-bit elements in u64 lanes: fewer than 2^32 of them stay below 2^64.
#[inline(always)]
fn words(bytes: &[u8], swap: bool, flip: u32) -> u128 {
    let mut sum = 0u64;
    for_each::<u32>(bytes, swap, |v| sum += (v ^ flip) as u64);
    sum as u128
}

/// 64-bit elements as two 32-bit limbs in u64 lanes, like the emulated shader: fewer than 2^32
/// elements keep each limb sum below 2^64.
#[inline(always)]
fn doubles(bytes: &[u8], swap: bool, flip: u64) -> u128 {
    let (mut low, mut high) = (0u64, 0u64);
    for_each::<u64>(bytes, swap, |v| {
        let v = v ^ flip;
        low += v & 0xffff_ffff;
        high += v >> 32;
    });
    low as u128 + ((high as u128) << 32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::array::unbias;
    use crate::cpu::Isa;

    fn reference(dtype: Dtype, order: ByteOrder, bytes: &[u8]) -> i128 {
        bytes
            .chunks_exact(dtype.size())
            .map(|chunk| {
                let mut buffer = [0u8; 8];
                let size = chunk.len();
                match order {
                    ByteOrder::Little => buffer[..size].copy_from_slice(chunk),
                    ByteOrder::Big => {
                        for (i, &b) in chunk.iter().rev().enumerate() {
                            buffer[i] = b;
                        }
                    }
                }
                let raw = u64::from_le_bytes(buffer);
                let bits = 8 * size as u32;
                if dtype.is_signed() && bits < 64 {
                    ((raw << (64 - bits)) as i64 >> (64 - bits)) as i128
                } else if dtype.is_signed() {
                    raw as i64 as i128
                } else {
                    raw as i128
                }
            })
            .sum()
    }

    #[test]
    fn every_type_order_isa_and_alignment_matches_a_plain_loop() {
        let mut bytes = Vec::new();
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..70_001 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            bytes.push(state as u8);
        }
        // Extremes: runs of 0x00 and 0xff bytes are each type's minimum, maximum, 0 and -1.
        bytes.extend([0xffu8; 4096]);
        bytes.extend([0x00u8; 4096]);
        for isa in Isa::available() {
            for dtype in Dtype::INTEGERS {
                for order in [ByteOrder::Little, ByteOrder::Big] {
                    for skew in [0, 1] {
                        let data = &bytes[skew..];
                        let data = &data[..data.len() / dtype.size() * dtype.size()];
                        let count = (data.len() / dtype.size()) as u64;
                        let expected = reference(dtype, order, data);
                        let sequential = unbias(dtype, biased_sum(isa, dtype, order, data), count);
                        let parallel =
                            unbias(dtype, biased_sum_parallel(isa, dtype, order, data), count);
                        assert_eq!(sequential, expected, "{isa} {dtype} {order:?} {skew}");
                        assert_eq!(parallel, expected, "{isa} {dtype} {order:?} {skew}");
                    }
                }
            }
        }
    }
}
