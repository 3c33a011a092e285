//! The yardstick for the CPU peak (docs/BENCHMARKS.md): twelve independent `vpaddd` per loop
//! iteration in inline assembly, which no compiler can fold, on one thread. A plain Rust loop of
//! independent adds does not measure this: LLVM folds it into a formula.
//!
//! ```sh
//! cargo run --release --example cpu_add_ceiling
//! ```

#[cfg(target_arch = "x86_64")]
fn main() {
    if !std::arch::is_x86_feature_detected!("avx2") {
        eprintln!("this CPU has no AVX2");
        std::process::exit(1);
    }
    let iterations: u64 = 200_000_000;
    let mut rates = Vec::new();
    for _ in 0..5 {
        let started = std::time::Instant::now();
        // SAFETY: AVX2 is present (checked above); the loop touches only the registers it names.
        unsafe { independent_adds(iterations) };
        let seconds = started.elapsed().as_secs_f64();
        // 24 vpaddd of 8 u32 lanes per iteration.
        rates.push((iterations * 24 * 8) as f64 / seconds);
    }
    rates.sort_by(f64::total_cmp);
    println!(
        "AVX2 u32 lane-adds/s on one thread: median {:.3e} (min {:.3e}, max {:.3e})",
        rates[2], rates[0], rates[4]
    );
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn independent_adds(iterations: u64) {
    // SAFETY: plain register arithmetic; every register written is declared clobbered.
    unsafe {
        std::arch::asm!(
            "vpxor ymm0, ymm0, ymm0", "vpxor ymm1, ymm1, ymm1", "vpxor ymm2, ymm2, ymm2",
            "vpxor ymm3, ymm3, ymm3", "vpxor ymm4, ymm4, ymm4", "vpxor ymm5, ymm5, ymm5",
            "vpxor ymm6, ymm6, ymm6", "vpxor ymm7, ymm7, ymm7", "vpxor ymm8, ymm8, ymm8",
            "vpxor ymm9, ymm9, ymm9", "vpxor ymm10, ymm10, ymm10", "vpxor ymm11, ymm11, ymm11",
            "vpcmpeqd ymm15, ymm15, ymm15",
            "2:",
            "vpaddd ymm0, ymm0, ymm15", "vpaddd ymm1, ymm1, ymm15", "vpaddd ymm2, ymm2, ymm15",
            "vpaddd ymm3, ymm3, ymm15", "vpaddd ymm4, ymm4, ymm15", "vpaddd ymm5, ymm5, ymm15",
            "vpaddd ymm6, ymm6, ymm15", "vpaddd ymm7, ymm7, ymm15", "vpaddd ymm8, ymm8, ymm15",
            "vpaddd ymm9, ymm9, ymm15", "vpaddd ymm10, ymm10, ymm15", "vpaddd ymm11, ymm11, ymm15",
            "vpaddd ymm0, ymm0, ymm15", "vpaddd ymm1, ymm1, ymm15", "vpaddd ymm2, ymm2, ymm15",
            "vpaddd ymm3, ymm3, ymm15", "vpaddd ymm4, ymm4, ymm15", "vpaddd ymm5, ymm5, ymm15",
            "vpaddd ymm6, ymm6, ymm15", "vpaddd ymm7, ymm7, ymm15", "vpaddd ymm8, ymm8, ymm15",
            "vpaddd ymm9, ymm9, ymm15", "vpaddd ymm10, ymm10, ymm15", "vpaddd ymm11, ymm11, ymm15",
            "dec {n}",
            "jnz 2b",
            n = inout(reg) iterations => _,
            out("ymm0") _, out("ymm1") _, out("ymm2") _, out("ymm3") _, out("ymm4") _,
            out("ymm5") _, out("ymm6") _, out("ymm7") _, out("ymm8") _, out("ymm9") _,
            out("ymm10") _, out("ymm11") _, out("ymm15") _,
            options(nostack, nomem),
        );
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn main() {
    eprintln!("this yardstick is written for x86-64 with AVX2");
    std::process::exit(1);
}
