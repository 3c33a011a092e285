//! f32 values cut (on AVX2, and by the portable kernels) in two parts: two cuts' parts up to 71
//! binades, a single cut's up to 77.

use super::*;

/// The plan `kernels` make for `values` (as one block).
fn plan_of(kernels: Kernels, values: &[f32]) -> Option<Plan> {
    // SAFETY: only called with kernels this CPU has.
    Plan::new::<f32>(unsafe { range(kernels, values) }, kernels)
}

#[test]
fn an_f32_block_of_up_to_77_binades_is_cut_in_two_parts_its_cut_taking_each_value_alone() {
    // kernels_here says it loudly where this CPU lacks AVX2; the portable kernels cut too.
    for kernels in kernels_here()
        .into_iter()
        .filter(|kernels| !kernels.has_windows())
    {
        two_parts_up_to_77_binades(kernels);
    }
}

fn two_parts_up_to_77_binades(kernels: Kernels) {
    let block = block::<f32>();
    for (binades, single, parts) in [(71, false, 2), (72, true, 2), (77, true, 2), (78, false, 3)] {
        let is = |plan: Option<Plan>| {
            plan.is_some_and(|plan| {
                plan.parts() == parts && matches!(plan, Plan::Single { .. }) == single
            })
        };
        for (lowest, len) in [(1, block), (40, 1000), (255 - binades, 3 * block + 5)] {
            let mut values = spread::<f32>(len, lowest, binades, u64::from(binades));
            values[0] = value(lowest, 0);
            values[1] = value(lowest + binades - 1, u64::MAX);
            assert!(is(plan_of(kernels, &values[..block.min(len)])), "{binades}");
            assert_eq!(left_by_lanes(kernels, &values), 0, "{binades} {lowest}");
        }
        // The cut's bounds: every value the largest of the top binade, of one sign or both,
        // but one the least subnormal.
        let sign = 1 << 31;
        for signs in [0, sign, 1] {
            let mut values = vec![value::<f32>(binades, u64::MAX >> 1); block];
            for (k, value) in values.iter_mut().enumerate() {
                let negative = signs == sign || (signs == 1 && k % 2 == 1);
                *value = f32::from_bits(value.to_bits() | if negative { sign } else { 0 });
            }
            values[0] = f32::from_bits(1);
            assert!(is(plan_of(kernels, &values)), "{binades}");
            assert_eq!(left_by_lanes(kernels, &values), 0, "{binades} {signs}");
        }
    }
}
