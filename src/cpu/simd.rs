//! The one place that chooses an instruction set at run time for the CPU twins' hot loops.
//!
//! [`multiversion!`](crate::cpu::simd) compiles a loop once per instruction set and calls the best
//! build this CPU has. Mesa's JIT uses AVX2 on such CPUs too, so the CPU and the software adapters
//! are compared like with like.

/// Defines a function whose body is compiled once per instruction set, and which runs the build
/// for the best instruction set this CPU has.
macro_rules! multiversion {
    ($(#[$meta:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $body:block) => {
        $(#[$meta])*
        $vis fn $name($($arg: $ty),*) -> $ret {
            #[inline(always)]
            fn portable($($arg: $ty),*) -> $ret $body

            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) -> $ret {
                portable($($arg),*)
            }

            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2, checked just above.
                return unsafe { avx2($($arg),*) };
            }
            portable($($arg),*)
        }
    };
}

pub(crate) use multiversion;
