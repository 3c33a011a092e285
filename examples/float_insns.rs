//! Sums the float bench's data `reps` times, through the lanes or the bins, for counting the
//! instructions a value costs on a CPU this machine only emulates (`scripts/count-insns.sh`).
//!
//! `float_insns COUNT REPS f32|f64 lanes|bins`: `bins` flushes subnormals for the thread, which
//! sends every block to the bins (integer only, so their sum is the same).

use gpusum::ExactFloatSum;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [count, reps, kind, path] = args.as_slice() else {
        eprintln!("usage: float_insns COUNT REPS f32|f64 lanes|bins");
        std::process::exit(2);
    };
    let count: usize = count.parse().expect("COUNT");
    let reps: usize = reps.parse().expect("REPS");
    let doubles = gpusum::bench::float_values(count);
    let singles: Vec<f32> = doubles.iter().map(|&x| x as f32).collect();
    if path == "bins" {
        flush_subnormals();
    }
    for _ in 0..reps {
        let values = if kind == "f32" {
            let mut sum = ExactFloatSum::<f32>::new();
            sum.add_slice(&singles).expect("finite");
            sum.count()
        } else {
            let mut sum = ExactFloatSum::<f64>::new();
            sum.add_slice(&doubles).expect("finite");
            sum.count()
        };
        std::hint::black_box(values);
    }
}

/// Sets the thread's flush-to-zero bit (FPCR.FZ; MXCSR's FTZ and DAZ).
fn flush_subnormals() {
    #[cfg(target_arch = "aarch64")]
    // SAFETY: sets one bit of the float control register.
    unsafe {
        std::arch::asm!("mrs {0}, fpcr", "orr {0}, {0}, #0x1000000", "msr fpcr, {0}", out(reg) _);
    }
    #[cfg(target_arch = "x86_64")]
    // SAFETY: sets two bits of MXCSR through four bytes on the stack.
    unsafe {
        let mut control: u32 = 0;
        std::arch::asm!("stmxcsr [{}]", in(reg) &raw mut control);
        control |= 0x8040;
        std::arch::asm!("ldmxcsr [{}]", in(reg) &raw const control);
    }
}
