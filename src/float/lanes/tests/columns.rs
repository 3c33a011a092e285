//! The column lanes against one value at a time, column by column.

use super::control::{CONTROLS, with_control};
use super::*;
use crate::array::ByteOrder;
use crate::float::{ColumnBins, FloatWindows};

/// Sums the columns of `matrix` (rows of `width` values) as the axis walk does: calls of up to
/// `call` rows, each for every tile of the row in turn; checks every column's digits against
/// one value at a time, and returns how many values the lanes took.
fn laned_columns(kernels: Kernels, matrix: &[f64], width: usize, call: usize) -> usize {
    let mut windows = FloatWindows::<f64>::new(width);
    let mut bins = ColumnBins::<f64>::new(isa(kernels), TILE);
    let mut lanes = ColumnLanes::<f64>::new(isa(kernels), ByteOrder::NATIVE).expect("lanes");
    let rows: Vec<&[f64]> = matrix.chunks(width).collect();
    for batch in rows.chunks(call) {
        for start in (0..width).step_by(TILE) {
            let end = width.min(start + TILE);
            let tiles: Vec<&[u8]> = batch
                .iter()
                .map(|row| bytemuck::cast_slice(&row[start..end]))
                .collect();
            lanes.add_tile(&mut windows, &mut bins, start, &tiles);
        }
    }
    let laned = lanes.laned;
    lanes.finish(&mut windows);
    bins.finish(&mut windows);
    for column in 0..width {
        let mut expected = ExactFloatSum::new();
        for row in &rows {
            expected.add(row[column]).unwrap();
        }
        let got = windows.sum(column, rows.len() as u64).unwrap();
        assert_eq!(
            got.to_bytes(),
            expected.to_bytes(),
            "{kernels:?}: column {column} of {width}, {} rows",
            rows.len()
        );
    }
    laned
}

/// The kernels here that have column lanes (not the portable ones).
fn column_kernels_here() -> impl Iterator<Item = Kernels> {
    kernels_here()
        .into_iter()
        .filter(|&kernels| kernels != Kernels::Portable)
}

#[test]
fn column_lanes_give_the_digits_of_one_value_at_a_time() {
    column_kernels_here().for_each(column_lanes_give_the_digits_of_one_value_at_a_time_on);
}

fn column_lanes_give_the_digits_of_one_value_at_a_time_on(kernels: Kernels) {
    // Around a vector, a tile and a block of rows, in every part count.
    for (rows, width) in [
        (1, 1),
        (31, 7),
        (32, 8),
        (33, 9),
        (65, 63),
        (64, 64),
        (97, 130),
    ] {
        for parts in 2..=MAX_PARTS {
            let binades = most_binades::<f64>(kernels, parts).unwrap();
            let lowest = [1, 300, lanes_top::<f64>() + 1 - binades][parts % 3];
            let values = spread::<f64>(rows * width, lowest, binades, (rows + parts) as u64);
            for call in [5, 1023] {
                let laned = laned_columns(kernels, &values, width, call);
                assert_eq!(laned, rows * width, "{parts} parts, {rows} x {width}");
            }
        }
    }
}

#[test]
fn column_lanes_follow_a_range_that_moves_from_block_to_block() {
    column_kernels_here().for_each(column_lanes_follow_a_range_that_moves_from_block_to_block_on);
}

fn column_lanes_follow_a_range_that_moves_from_block_to_block_on(kernels: Kernels) {
    // Each block of 32 rows in its own 40 binades: larger, finer, subnormal, near the top.
    let (rows, width) = (32 * 9 + 3, 20);
    let lowest = [600, 640, 560, 1, 600, 1990, 40, 41, 1000, 1000];
    let values: Vec<f64> = (0..rows)
        .flat_map(|row| spread::<f64>(width, lowest[row / 32], 40, row as u64))
        .collect();
    assert_eq!(laned_columns(kernels, &values, width, 1023), rows * width);
    assert_eq!(laned_columns(kernels, &values, width, 16), rows * width);
}

#[test]
fn column_blocks_the_lanes_cannot_take_go_to_the_bins() {
    column_kernels_here().for_each(column_blocks_the_lanes_cannot_take_go_to_the_bins_on);
}

fn column_blocks_the_lanes_cannot_take_go_to_the_bins_on(kernels: Kernels) {
    let (rows, width) = (32 * 8, 12);
    let mut values = spread::<f64>(rows * width, 900, 50, 3);
    // Block 1 an infinity, 2 a NaN, 4 a value too large for a cut's running sum, 5 too many
    // binades; blocks 6 and 7 all zeros, column 2 all -0.0, column 4 all +0.0, column 5
    // values that cancel and column 6 one +0.0 among -0.0 (both +0.0).
    values[32 * width + 3] = f64::INFINITY;
    values[(2 * 32 + 3) * width + 8] = f64::NAN;
    values[4 * 32 * width + 7] = f64::from_bits(F64_TOO_LARGE << 52);
    values[5 * 32 * width + 1] = f64::from_bits(1);
    values[5 * 32 * width + 3] = 1e300;
    for row in 0..rows {
        if row >= 6 * 32 {
            values[row * width..][..width].fill(if row % 3 == 0 { -0.0 } else { 0.0 });
        }
        values[row * width + 2] = -0.0;
        values[row * width + 4] = 0.0;
        values[row * width + 5] = if row % 2 == 0 { 1.5 } else { -1.5 };
        values[row * width + 6] = if row == 100 { 0.0 } else { -0.0 };
    }
    assert_eq!(
        laned_columns(kernels, &values, width, 1023),
        (rows - 4 * 32) * width
    );
    // A first block of zeros alone, then values.
    let mut values = spread::<f64>(64 * width, 1000, 30, 4);
    values[..32 * width].fill(-0.0);
    assert_eq!(laned_columns(kernels, &values, width, 1023), 64 * width);
}

#[test]
fn column_sums_past_a_thousand_blocks_of_one_plan_are_placed_on_the_way() {
    column_kernels_here()
        .for_each(column_sums_past_a_thousand_blocks_of_one_plan_are_placed_on_the_way_on);
}

fn column_sums_past_a_thousand_blocks_of_one_plan_are_placed_on_the_way_on(kernels: Kernels) {
    // Every value the largest of its binade, one sign: each block's lanes near their bound.
    let rows = 32 * 1023 + 40;
    let mut values = vec![f64::from_bits((1500 << 52) | ((1 << 52) - 1)); rows * 8];
    values[3] = f64::from_bits((1420 << 52) | 1);
    assert_eq!(laned_columns(kernels, &values, 8, 1023), rows * 8);
}

#[test]
fn column_lanes_are_not_offered_where_they_would_round_otherwise() {
    let isa = Isa::best();
    let lanes = |order| ColumnLanes::<f64>::new(isa, order).is_some();
    let laned = matches!(Kernels::of(isa), Some(Kernels::Avx512 | Kernels::Avx2));
    assert_eq!(lanes(ByteOrder::NATIVE), laned);
    assert!(!lanes(ByteOrder::Big));
    assert!(ColumnLanes::<f32>::new(isa, ByteOrder::NATIVE).is_none());
    assert!(!with_control(CONTROLS[1], || lanes(ByteOrder::NATIVE)));
}
