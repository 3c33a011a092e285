//! The one place that chooses an instruction set for the CPU twins' hot loops, and the vector
//! operations they are written in.
//!
//! A hot loop is written once, generic over [`Lanes`] (a register of u32 lanes), and
//! [`per_isa!`] builds it for each instruction set. Explicit vector types matter: written over
//! arrays of u32, LLVM splits the loop state into scalars and shuffles them in and out of
//! registers every iteration. The best set this CPU has is used unless `GPUSUM_CPU_ISA` names a
//! narrower one; tests pass each set explicitly.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// An instruction set a CPU twin can be built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Isa {
    /// x86-64 AVX-512 (F and BW): 16 u32 lanes per register.
    Avx512,
    /// x86-64 AVX2: 8 u32 lanes per register.
    Avx2,
    /// x86-64's baseline SSE2: 4 u32 lanes per register.
    Sse2,
    /// AArch64's baseline NEON: 4 u32 lanes per register.
    Neon,
    /// Plain scalar code, on every other architecture.
    Scalar,
}

impl Isa {
    /// Every set, widest first.
    pub const ALL: [Isa; 5] = [Isa::Avx512, Isa::Avx2, Isa::Sse2, Isa::Neon, Isa::Scalar];

    /// Lower-case name.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Avx512 => "avx512",
            Isa::Avx2 => "avx2",
            Isa::Sse2 => "sse2",
            Isa::Neon => "neon",
            Isa::Scalar => "scalar",
        }
    }

    /// u32 lanes in one register.
    #[must_use]
    pub const fn lanes(self) -> usize {
        match self {
            Isa::Avx512 => 16,
            Isa::Avx2 => 8,
            Isa::Sse2 | Isa::Neon => 4,
            Isa::Scalar => 1,
        }
    }

    /// Whether this CPU can run code built for this set.
    #[must_use]
    pub fn is_available(self) -> bool {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => {
                std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512bw")
            }
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            Isa::Sse2 => cfg!(target_arch = "x86_64"),
            Isa::Neon => cfg!(target_arch = "aarch64"),
            Isa::Scalar => !cfg!(any(target_arch = "x86_64", target_arch = "aarch64")),
            #[allow(unreachable_patterns)]
            _ => false,
        }
    }

    /// The sets this CPU can run, widest first.
    #[must_use]
    pub fn available() -> Vec<Isa> {
        Self::ALL
            .into_iter()
            .filter(|isa| isa.is_available())
            .collect()
    }

    /// The set the CPU twins use: `GPUSUM_CPU_ISA` when it names one this CPU has, else the
    /// widest this CPU has.
    #[must_use]
    pub fn best() -> Isa {
        // Read once: every sum asks, and the environment does not change under a process.
        static BEST: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| {
            std::env::var("GPUSUM_CPU_ISA")
                .ok()
                .and_then(|name| name.parse::<Isa>().ok())
                .filter(|isa| isa.is_available())
                .unwrap_or_else(|| Self::available()[0])
        })
    }
}

impl fmt::Display for Isa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Isa {
    type Err = crate::kernel::UnknownName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|isa| isa.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| crate::kernel::UnknownName {
                kind: "instruction set",
                name: text.to_owned(),
                expected: Self::ALL.map(Isa::name).to_vec(),
            })
    }
}

/// A register of u32 lanes and the few operations the CPU twins need.
///
/// # Safety
/// Each method uses its instruction set's intrinsics: call them only from code built for that
/// set (which [`per_isa!`] guarantees).
pub(crate) trait Lanes: Copy {
    /// u32 lanes in the register.
    const LANES: usize;
    /// What [`Lanes::tally`] counts per lane: carries (true) or additions without one (false).
    const TALLIES_CARRIES: bool;

    /// Every lane `value`.
    unsafe fn splat(value: u32) -> Self;
    /// Lane i is `values[i]`; `values` holds at least `LANES` values.
    unsafe fn load(values: &[u32]) -> Self;
    /// Writes the lanes to `out[..LANES]`.
    unsafe fn store(self, out: &mut [u32]);
    /// Lane-wise wrapping addition.
    unsafe fn add(self, other: Self) -> Self;
    /// Adds 1 to each lane of `self` where `sum = previous + value` wrapped past 2^32 (or where
    /// it did not, as [`Lanes::TALLIES_CARRIES`] says), in as few instructions as this set
    /// allows.
    unsafe fn tally(self, sum: Self, value: Self) -> Self;
}

/// Defines `fn NAME(isa: Isa, ARGS) -> RET` that runs `BODY::<V>(ARGS)` with `V` the [`Lanes`]
/// of `isa`, built for `isa`. A set this CPU lacks runs the baseline build, so no caller can reach
/// an instruction the CPU does not have.
macro_rules! per_isa {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty = $body:ident
    ) => {
        $(#[$meta])*
        $vis fn $name(isa: $crate::cpu::simd::Isa, $($arg: $ty),*) -> $ret {
            #[allow(unused_imports)]
            use $crate::cpu::simd::{Isa, vectors};

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f,avx512bw")]
            fn avx512($($arg: $ty),*) -> $ret {
                // SAFETY: built for AVX-512, which the Lanes type uses.
                unsafe { $body::<vectors::Avx512>($($arg),*) }
            }

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) -> $ret {
                // SAFETY: built for AVX2, which the Lanes type uses.
                unsafe { $body::<vectors::Avx2>($($arg),*) }
            }

            match isa {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the CPU has AVX-512 F and BW, checked by is_available.
                Isa::Avx512 if isa.is_available() => unsafe { avx512($($arg),*) },
                #[cfg(target_arch = "x86_64")]
                // SAFETY: the CPU has AVX2, checked by is_available.
                Isa::Avx2 if isa.is_available() => unsafe { avx2($($arg),*) },
                // SAFETY: the baseline set, which every CPU of the architecture has.
                _ => unsafe { $body::<vectors::Baseline>($($arg),*) },
            }
        }
    };
}

pub(crate) use per_isa;

/// The [`Lanes`] of each instruction set.
pub(crate) mod vectors {
    #[cfg(target_arch = "x86_64")]
    pub(crate) use super::x86::{Avx2, Avx512, Sse2 as Baseline};

    #[cfg(target_arch = "aarch64")]
    pub(crate) use super::arm::Neon as Baseline;

    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    pub(crate) use super::Scalar as Baseline;
}

/// One u32, for architectures without a vector set gpusum knows.
#[allow(dead_code)]
#[derive(Clone, Copy)]
pub(crate) struct Scalar(u32);

impl Lanes for Scalar {
    const LANES: usize = 1;
    const TALLIES_CARRIES: bool = true;

    #[inline(always)]
    unsafe fn splat(value: u32) -> Self {
        Scalar(value)
    }
    #[inline(always)]
    unsafe fn load(values: &[u32]) -> Self {
        Scalar(values[0])
    }
    #[inline(always)]
    unsafe fn store(self, out: &mut [u32]) {
        out[0] = self.0;
    }
    #[inline(always)]
    unsafe fn add(self, other: Self) -> Self {
        Scalar(self.0.wrapping_add(other.0))
    }
    #[inline(always)]
    unsafe fn tally(self, sum: Self, value: Self) -> Self {
        Scalar(self.0 + (sum.0 < value.0) as u32)
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::Lanes;

    /// Eight lanes in a ymm register.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx2(__m256i);

    impl Lanes for Avx2 {
        const LANES: usize = 8;
        const TALLIES_CARRIES: bool = false;

        #[inline(always)]
        unsafe fn splat(value: u32) -> Self {
            unsafe { Avx2(_mm256_set1_epi32(value as i32)) }
        }
        #[inline(always)]
        unsafe fn load(values: &[u32]) -> Self {
            assert!(values.len() >= Self::LANES);
            unsafe { Avx2(_mm256_loadu_si256(values.as_ptr().cast())) }
        }
        #[inline(always)]
        unsafe fn store(self, out: &mut [u32]) {
            assert!(out.len() >= Self::LANES);
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, other: Self) -> Self {
            unsafe { Avx2(_mm256_add_epi32(self.0, other.0)) }
        }
        /// No carry where max(sum, value) == sum: the mask is -1 there, so subtracting it counts.
        #[inline(always)]
        unsafe fn tally(self, sum: Self, value: Self) -> Self {
            unsafe {
                let no_carry = _mm256_cmpeq_epi32(_mm256_max_epu32(sum.0, value.0), sum.0);
                Avx2(_mm256_sub_epi32(self.0, no_carry))
            }
        }
    }

    /// Sixteen lanes in a zmm register.
    #[derive(Clone, Copy)]
    pub(crate) struct Avx512(__m512i);

    impl Lanes for Avx512 {
        const LANES: usize = 16;
        const TALLIES_CARRIES: bool = true;

        #[inline(always)]
        unsafe fn splat(value: u32) -> Self {
            unsafe { Avx512(_mm512_set1_epi32(value as i32)) }
        }
        #[inline(always)]
        unsafe fn load(values: &[u32]) -> Self {
            assert!(values.len() >= Self::LANES);
            unsafe { Avx512(_mm512_loadu_si512(values.as_ptr().cast())) }
        }
        #[inline(always)]
        unsafe fn store(self, out: &mut [u32]) {
            assert!(out.len() >= Self::LANES);
            unsafe { _mm512_storeu_si512(out.as_mut_ptr().cast(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, other: Self) -> Self {
            unsafe { Avx512(_mm512_add_epi32(self.0, other.0)) }
        }
        /// An unsigned compare into a mask, then a masked add of one.
        #[inline(always)]
        unsafe fn tally(self, sum: Self, value: Self) -> Self {
            unsafe {
                let carry = _mm512_cmplt_epu32_mask(sum.0, value.0);
                Avx512(_mm512_mask_add_epi32(
                    self.0,
                    carry,
                    self.0,
                    _mm512_set1_epi32(1),
                ))
            }
        }
    }

    /// Four lanes in an xmm register, with only x86-64's baseline.
    #[derive(Clone, Copy)]
    pub(crate) struct Sse2(__m128i);

    impl Lanes for Sse2 {
        const LANES: usize = 4;
        const TALLIES_CARRIES: bool = true;

        #[inline(always)]
        unsafe fn splat(value: u32) -> Self {
            unsafe { Sse2(_mm_set1_epi32(value as i32)) }
        }
        #[inline(always)]
        unsafe fn load(values: &[u32]) -> Self {
            assert!(values.len() >= Self::LANES);
            unsafe { Sse2(_mm_loadu_si128(values.as_ptr().cast())) }
        }
        #[inline(always)]
        unsafe fn store(self, out: &mut [u32]) {
            assert!(out.len() >= Self::LANES);
            unsafe { _mm_storeu_si128(out.as_mut_ptr().cast(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, other: Self) -> Self {
            unsafe { Sse2(_mm_add_epi32(self.0, other.0)) }
        }
        /// SSE2 compares only signed: flipping both sign bits makes it unsigned.
        #[inline(always)]
        unsafe fn tally(self, sum: Self, value: Self) -> Self {
            unsafe {
                let sign = _mm_set1_epi32(i32::MIN);
                let carry =
                    _mm_cmpgt_epi32(_mm_xor_si128(value.0, sign), _mm_xor_si128(sum.0, sign));
                Sse2(_mm_sub_epi32(self.0, carry))
            }
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod arm {
    use std::arch::aarch64::*;

    use super::Lanes;

    /// Four lanes in a NEON register.
    #[derive(Clone, Copy)]
    pub(crate) struct Neon(uint32x4_t);

    impl Lanes for Neon {
        const LANES: usize = 4;
        const TALLIES_CARRIES: bool = true;

        #[inline(always)]
        unsafe fn splat(value: u32) -> Self {
            unsafe { Neon(vdupq_n_u32(value)) }
        }
        #[inline(always)]
        unsafe fn load(values: &[u32]) -> Self {
            assert!(values.len() >= Self::LANES);
            unsafe { Neon(vld1q_u32(values.as_ptr())) }
        }
        #[inline(always)]
        unsafe fn store(self, out: &mut [u32]) {
            assert!(out.len() >= Self::LANES);
            unsafe { vst1q_u32(out.as_mut_ptr(), self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, other: Self) -> Self {
            unsafe { Neon(vaddq_u32(self.0, other.0)) }
        }
        /// An unsigned compare gives -1 where it carried: subtracting it counts.
        #[inline(always)]
        unsafe fn tally(self, sum: Self, value: Self) -> Self {
            unsafe { Neon(vsubq_u32(self.0, vcltq_u32(sum.0, value.0))) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_set_is_available_and_names_round_trip() {
        assert!(Isa::best().is_available());
        assert!(!Isa::available().is_empty());
        for isa in Isa::ALL {
            assert_eq!(isa.name().parse::<Isa>().unwrap(), isa);
        }
        assert!("mmx".parse::<Isa>().is_err());
    }
}
