use super::plan::{F32_SPAN, F64_TOO_LARGE};
use super::*;

/// Sums `values` through `kernels`' lanes, the blocks they leave one value at a time, checks
/// the digits against one value at a time, and returns how many values they left.
fn left_by_lanes<T: ExactFloat>(kernels: Kernels, values: &[T]) -> usize {
    let mut sum = ExactFloatSum::<T>::new();
    let mut left = 0;
    add_in(kernels, &mut sum, values, |sum, block| {
        left += block.len();
        sum.add_each(block);
    });
    sum.count = values.len() as u64;
    let negative_zero = 1 << (T::FRACTION_BITS + T::EXPONENT_BITS);
    sum.not_negative_zero = values.iter().any(|v| v.bits() != negative_zero);
    let mut expected = ExactFloatSum::new();
    for &value in values {
        expected.add(value).unwrap();
    }
    let first = &values[..8.min(values.len())];
    assert_eq!(
        sum.to_bytes(),
        expected.to_bytes(),
        "{kernels:?}: {first:?}"
    );
    left
}

/// A value of biased exponent `exponent` (at most the largest finite one), with the fraction
/// and sign bits of `mixed`.
fn value<T: ExactFloat>(exponent: u32, mixed: u64) -> T {
    let sign_and_fraction =
        (1 << (T::FRACTION_BITS + T::EXPONENT_BITS)) | ((1 << T::FRACTION_BITS) - 1);
    T::from_bits(mixed & sign_and_fraction | u64::from(exponent) << T::FRACTION_BITS)
}

/// The largest finite biased exponent.
fn largest<T: ExactFloat>() -> u32 {
    (1 << T::EXPONENT_BITS) - 2
}

/// The largest biased exponent the lanes take.
fn lanes_top<T: ExactFloat>() -> u32 {
    if T::TAG == 4 {
        254
    } else {
        F64_TOO_LARGE as u32 - 1
    }
}

/// The most binades a block in `parts` parts spans on `kernels` (none: f64 takes at least two).
fn most_binades<T: ExactFloat>(kernels: Kernels, parts: usize) -> Option<u32> {
    let parts = parts as u32;
    if T::TAG == 4 && kernels.has_windows() {
        Some(parts * F32_SPAN)
    } else if T::TAG == 4 {
        // Cuts of f32 values: a top 31 binades past the least value's last bit; two parts'
        // single cut's 6 nearer (`Plan::Single`).
        Some(CUT as u32 * (parts - 1) + 25 + if parts == 2 { 6 } else { 0 })
    } else {
        (parts >= 2).then(|| CUT as u32 * (parts - 1) - 4)
    }
}

/// The parts `kernels`' lanes cut `values` into (as one block).
fn parts_of<T: ExactFloat>(kernels: Kernels, values: &[T]) -> Option<usize> {
    // SAFETY: only called with kernels this CPU has.
    Plan::new::<T>(unsafe { range(kernels, values) }, kernels).map(|plan| plan.parts())
}

fn block<T>() -> usize {
    BLOCK_BYTES / size_of::<T>()
}

/// Values over `binades` binades from biased exponent `lowest`, both signs, every length of
/// significand.
fn spread<T: ExactFloat>(count: usize, lowest: u32, binades: u32, seed: u64) -> Vec<T> {
    (0..count as u64)
        .map(|k| {
            let mixed = (k ^ seed)
                .wrapping_mul(0x9e37_79b9_7f4a_7c15)
                .rotate_left(k as u32 % 61);
            value(lowest + (mixed % u64::from(binades)) as u32, mixed)
        })
        .collect()
}

/// The instruction set whose sums go through `kernels` (on x86-64, the portable kernels' are
/// SSE2's, which does not take them: their tests call `add_in`).
fn isa(kernels: Kernels) -> Isa {
    match kernels {
        #[cfg(target_arch = "x86_64")]
        Kernels::Avx512 => Isa::Avx512,
        #[cfg(target_arch = "x86_64")]
        Kernels::Avx2 => Isa::Avx2,
        Kernels::Portable if cfg!(target_arch = "x86_64") => Isa::Sse2,
        Kernels::Portable => Isa::Neon,
    }
}

/// The kernels this CPU runs, each set it lacks said loudly (its tests then have nothing to
/// check: those blocks go to the bins, which their own tests cover). The portable kernels run
/// everywhere.
#[allow(clippy::print_stderr)]
fn kernels_here() -> Vec<Kernels> {
    // Pushed to on x86-64 only.
    #[allow(unused_mut)]
    let mut here = vec![Kernels::Portable];
    #[cfg(target_arch = "x86_64")]
    for (kernels, needs) in [
        (Kernels::Avx512, "AVX-512 F, BW and DQ"),
        (Kernels::Avx2, "AVX2 and FMA"),
    ] {
        if Kernels::of(isa(kernels)) == Some(kernels) {
            here.push(kernels);
        } else {
            eprintln!(
                "\n!!!!! no {needs} on this CPU: the {kernels:?} lanes' tests are skipped !!!!!\n"
            );
        }
    }
    here
}

fn lanes_give_the_digits_of_one_value_at_a_time<T: ExactFloat>(kernels: Kernels) {
    let block = block::<T>();
    for parts in 1..=MAX_PARTS {
        let Some(binades) = most_binades::<T>(kernels, parts) else {
            continue;
        };
        for len in [
            1,
            7,
            8,
            9,
            15,
            16,
            17,
            255,
            256,
            257,
            1000,
            block - 1,
            block,
            3 * block + 5,
        ] {
            let lowest = [1, 40, lanes_top::<T>() + 1 - binades][len % 3];
            let mut values = spread::<T>(len, lowest, binades, parts as u64);
            if len > 2 {
                values[0] = value(lowest, 0);
                values[1] = value(lowest + binades - 1, 0);
                assert_eq!(parts_of(kernels, &values[..block.min(len)]), Some(parts));
            }
            assert_eq!(
                left_by_lanes(kernels, &values),
                0,
                "{parts} parts, {len} values"
            );
        }
    }
    // Subnormals, zeros of both signs and the largest finite values in one block.
    let mut edges = spread::<T>(block, largest::<T>() - 53, 54, 7);
    let sign = 1 << (T::FRACTION_BITS + T::EXPONENT_BITS);
    let max = value::<T>(largest::<T>(), u64::MAX >> 1).bits();
    for (k, value) in edges.iter_mut().enumerate().step_by(5) {
        let edge = [0, sign, 1, sign | ((1 << T::FRACTION_BITS) - 1), max][k / 5 % 5];
        *value = T::from_bits(edge);
    }
    assert_eq!(
        left_by_lanes(kernels, &edges),
        block,
        "every binade is too many parts"
    );
    edges.retain(|v| (v.bits() >> T::FRACTION_BITS) & ((1 << T::EXPONENT_BITS) - 1) == 0);
    assert!(edges.len() > 100);
    assert_eq!(left_by_lanes(kernels, &edges), 0);
    let zeros = [T::from_bits(0), T::from_bits(sign)];
    assert_eq!(left_by_lanes(kernels, &zeros), 0);
    assert_eq!(left_by_lanes(kernels, &zeros[1..]), 0);
    // Every value the largest of the top binade but one the least: the bounds of the flushes.
    for parts in 1..=MAX_PARTS {
        let Some(binades) = most_binades::<T>(kernels, parts) else {
            continue;
        };
        let mut values = vec![value::<T>(binades, u64::MAX >> 1); block];
        values[0] = T::from_bits(1);
        assert_eq!(parts_of(kernels, &values), Some(parts));
        assert_eq!(left_by_lanes(kernels, &values), 0, "{parts}");
        for value in values.iter_mut().skip(1).step_by(2) {
            *value = T::from_bits(value.bits() | sign);
        }
        assert_eq!(left_by_lanes(kernels, &values), 0, "{parts}");
    }
}

#[test]
fn lanes_give_the_digits_of_one_value_at_a_time_f32() {
    for kernels in kernels_here() {
        lanes_give_the_digits_of_one_value_at_a_time::<f32>(kernels);
    }
}

#[test]
fn lanes_give_the_digits_of_one_value_at_a_time_f64() {
    for kernels in kernels_here() {
        lanes_give_the_digits_of_one_value_at_a_time::<f64>(kernels);
    }
}

fn blocks_the_lanes_cannot_take_go_to_the_bins<T: ExactFloat>(kernels: Kernels) {
    let block = block::<T>();
    let mut special = spread::<T>(block, 100, 10, 1);
    special[50] = T::from_bits(((1 << T::EXPONENT_BITS) - 1) << T::FRACTION_BITS);
    let mut nan = spread::<T>(block, 100, 10, 2);
    nan[block - 1] =
        T::from_bits(nan[0].bits() | ((1 << (T::FRACTION_BITS + T::EXPONENT_BITS)) - 1));
    // NaNs of every payload bit, between zeros: nothing else for the range to see.
    let all_ones = (1 << (T::FRACTION_BITS + T::EXPONENT_BITS)) - 1;
    let nans: Vec<T> = (0..block)
        .map(|k| T::from_bits(if k % 3 == 0 { 0 } else { all_ones }))
        .collect();
    let most = most_binades::<T>(kernels, MAX_PARTS).expect("five parts take binades");
    let mut wide = spread::<T>(block, 1, most, 3);
    wide[7] = value(1, 0);
    wide[8] = value(most, 0);
    assert_eq!(parts_of(kernels, &wide), Some(MAX_PARTS));
    assert_eq!(left_by_lanes(kernels, &wide), 0, "{MAX_PARTS} parts");
    wide[9] = value(most + 1, 0);
    assert_eq!(parts_of(kernels, &wide), None);
    // Blocks in turn that the lanes take and leave.
    let blocks = [
        spread::<T>(block, 60, 70, 4),
        special,
        spread(block, 1, 3, 5),
        vec![T::from_bits(0); block],
        wide,
        spread(block, 120, 100, 6),
        nan,
        nans,
        spread(block, 30, 20, 7),
        // Near the largest finite values: none for f32, an f64 lane's sum could overflow.
        spread(block, lanes_top::<T>() - 3, 4, 8),
        spread(
            block,
            lanes_top::<T>() - 3,
            largest::<T>() - lanes_top::<T>() + 4,
            9,
        ),
        spread(block - 3, 30, 20, 10),
    ];
    let overflows = if T::TAG == 4 { 0 } else { block };
    let left = [0, block, 0, 0, block, 0, block, block, 0, 0, overflows, 0];
    each_tail_leaves(kernels, &blocks, &left);
}

/// Sums `blocks` from each one on, in turn, so that each block follows every kind; checks that
/// the lanes leave the bins `left[k]` values of block k.
fn each_tail_leaves<T: ExactFloat>(kernels: Kernels, blocks: &[Vec<T>], left: &[usize]) {
    for start in 0..blocks.len() {
        let values = blocks[start..].concat();
        let expected: usize = left[start..].iter().sum();
        assert_eq!(
            left_by_lanes(kernels, &values),
            expected,
            "{kernels:?} from {start}"
        );
    }
}

#[test]
fn blocks_the_lanes_cannot_take_go_to_the_bins_and_the_rest_still_add() {
    for kernels in kernels_here() {
        blocks_the_lanes_cannot_take_go_to_the_bins::<f32>(kernels);
        blocks_the_lanes_cannot_take_go_to_the_bins::<f64>(kernels);
    }
}

#[test]
fn an_f64_block_sums_under_the_last_ones_plan_only_where_it_holds() {
    kernels_here()
        .into_iter()
        .for_each(an_f64_block_sums_under_the_last_ones_plan);
}

fn an_f64_block_sums_under_the_last_ones_plan(kernels: Kernels) {
    let block = block::<f64>();
    let like = |seed| {
        let mut values = spread::<f64>(block, 1000, 20, seed);
        values[0] = value(1000, 0);
        values[1] = value(1019, u64::MAX);
        values
    };
    let with = |seed, exponent| {
        let mut values = like(seed);
        values[block / 2] = value(exponent, u64::MAX);
        values
    };
    // Like blocks, then values past the widened plan's top or below its least unit, and values
    // within them: two cuts' room of 101 binades over a span of 20, 2 of it above, 19 below.
    let blocks = [
        like(1),
        like(2),
        with(3, 1019 + 3),
        like(4),
        with(5, 1019 + 2),
        with(6, 1000 - 19),
        with(7, 1000 - 20),
        like(8),
        with(9, 3),
        with(10, 1019 + 60),
        with(11, 1019 + 180),
    ];
    // Too many parts for the lanes: 1016 and 199 binades.
    let left = [0, 0, 0, 0, 0, 0, 0, 0, block, 0, block];
    each_tail_leaves(kernels, &blocks, &left);
}

#[test]
fn an_f32_block_is_summed_in_the_range_its_last_block_found_wherever_its_extremes_lie() {
    let block = block::<f32>();
    // Blocks of one window (or part), 60 to 79; one value a block far below or above moves its
    // plan to two windows or more (or parts): missed, it would round in the one.
    let tail = block - 4;
    for (kernels, at) in kernels_here().into_iter().flat_map(|kernels| {
        [0, 1, 15, 16, 17, block / 2, block - 17, block - 16, tail].map(|at| (kernels, at))
    }) {
        let mut blocks: Vec<Vec<f32>> = (0..5).map(|k| spread(block, 60, 20, k)).collect();
        blocks[1][at] = value(30, u64::MAX);
        blocks[2][at] = value(100, 0);
        blocks[3][at] = value(1, 3);
        // The last block is short: `tail` lies past its last whole group of 16.
        blocks[4].truncate(block - 3);
        blocks[4][at.min(tail)] = value(110, u64::MAX);
        assert_eq!(
            left_by_lanes(kernels, &blocks.concat()),
            0,
            "{kernels:?} {at}"
        );
    }
}

#[test]
fn avx512_avx2_and_neon_take_the_lanes_and_sse2_and_scalar_leave_them_to_the_bins() {
    for isa in Isa::ALL {
        let mut sum = ExactFloatSum::<f32>::new();
        let laned = add(isa, &mut sum, &[1.0f32; 64], |_, _| {});
        let expected = isa.is_available() && !matches!(isa, Isa::Sse2 | Isa::Scalar);
        assert_eq!(laned, expected, "{isa}");
        let mut sum = ExactFloatSum::<f64>::new();
        assert_eq!(add(isa, &mut sum, &[1.0f64; 64], |_, _| {}), laned, "{isa}");
    }
    for kernels in kernels_here() {
        let set = Kernels::of(isa(kernels));
        let portable_on_x86 = kernels == Kernels::Portable && cfg!(target_arch = "x86_64");
        assert_eq!(set, (!portable_on_x86).then_some(kernels), "{kernels:?}");
    }
}

#[cfg(target_arch = "x86_64")]
mod columns;
mod control;
mod single;
