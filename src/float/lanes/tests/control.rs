//! Threads that round otherwise, or flush subnormals: the lanes leave them to the bins.

use super::*;

/// Runs `f` with the thread's float control word (MXCSR, FPCR) set to `control`, then restores
/// it.
pub(super) fn with_control<R>(control: u64, f: impl FnOnce() -> R) -> R {
    let saved = float_control(None);
    float_control(Some(control));
    let result = f();
    float_control(Some(saved));
    result
}

/// Sets MXCSR to `control` if given; returns what it was.
#[cfg(target_arch = "x86_64")]
fn float_control(control: Option<u64>) -> u64 {
    let mut old: u32 = 0;
    // SAFETY: stmxcsr and ldmxcsr write and read these four bytes, and the control word.
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &raw mut old, options(nostack, preserves_flags));
        if let Some(control) = control {
            let control = &raw const control;
            std::arch::asm!("ldmxcsr [{}]", in(reg) control, options(nostack, preserves_flags));
        }
    }
    old.into()
}

/// Sets FPCR to `control` if given; returns what it was.
#[cfg(target_arch = "aarch64")]
fn float_control(control: Option<u64>) -> u64 {
    let old: u64;
    // SAFETY: mrs and msr read and write the float control register only.
    unsafe {
        std::arch::asm!("mrs {}, fpcr", out(reg) old, options(nomem, nostack, preserves_flags));
        if let Some(control) = control {
            std::arch::asm!("msr fpcr, {}", in(reg) control, options(nomem, nostack));
        }
    }
    old
}

/// The default control word, then one that flushes subnormals, then one that rounds toward zero.
#[cfg(target_arch = "x86_64")]
pub(super) const CONTROLS: [u64; 3] = [0x1f80, 0x1f80 | 0x8040, 0x1f80 | 0x6000];
#[cfg(target_arch = "aarch64")]
pub(super) const CONTROLS: [u64; 3] = [0, 1 << 24, 3 << 22];

#[test]
fn a_thread_that_flushes_subnormals_or_rounds_otherwise_leaves_every_block_to_the_bins() {
    let singles: Vec<f32> = [f32::from_bits(1), 1.0, -3.5e-40, 2.0e-38].repeat(1000);
    let doubles: Vec<f64> = [f64::from_bits(1), -1.5e-305, -3.5e-310, 2.0e-300].repeat(1000);
    let mut expected32 = ExactFloatSum::new();
    expected32.add_slice(&singles).unwrap();
    let mut expected64 = ExactFloatSum::new();
    expected64.add_slice(&doubles).unwrap();
    for (isa, control) in kernels_here()
        .into_iter()
        .flat_map(|kernels| CONTROLS.map(|control| (isa(kernels), control)))
    {
        let laned = control == CONTROLS[0] && Kernels::of(isa).is_some();
        let (took32, took64) = with_control(control, || {
            let took32 = add(isa, &mut ExactFloatSum::new(), &singles, |_, _| {});
            let took64 = add(isa, &mut ExactFloatSum::new(), &doubles, |_, _| {});
            (took32, took64)
        });
        assert_eq!((took32, took64), (laned, laned), "{isa} {control:#x}");
    }
    // And the sums through the best set, as users make them.
    for control in CONTROLS {
        let (sum32, sum64) = with_control(control, || {
            let mut sum32 = ExactFloatSum::new();
            sum32.add_slice(&singles).unwrap();
            let mut sum64 = ExactFloatSum::new();
            sum64.add_slice(&doubles).unwrap();
            (sum32, sum64)
        });
        assert_eq!(sum32.to_bytes(), expected32.to_bytes(), "{control:#x}");
        assert_eq!(sum64.to_bytes(), expected64.to_bytes(), "{control:#x}");
    }
}
