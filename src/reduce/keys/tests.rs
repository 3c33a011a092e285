use std::collections::BTreeMap;

use super::*;
use crate::reduce::outputs::{key_of, ordered_bits};

/// Adds `value` under `key` the way the CPU twin does: room first, then the slot.
fn add(table: &mut KeyTable, key: i128, value: i128) {
    let bits = ordered_bits(table.key_dtype, key);
    table.saw(1);
    table.make_room(bits, bits);
    let slot = match table.dense_low() {
        Some(low) => (bits - low) as usize,
        None => table.sparse_slot(bits),
    };
    let (sums, counts) = table.parts();
    let Sums::Int(sums) = sums else {
        unreachable!()
    };
    sums[slot] += value;
    counts[slot] += 1;
}

fn check(table: KeyTable, expected: &BTreeMap<i128, (i128, u64)>, what: &str) {
    let outputs = table.into_outputs();
    let keys: Vec<i128> = outputs.keys().unwrap().iter().collect();
    assert_eq!(keys, expected.keys().copied().collect::<Vec<_>>(), "{what}");
    for (i, (sum, count)) in expected.values().enumerate() {
        assert_eq!(
            (outputs.int_sum(i), outputs.count(i)),
            (Some(*sum), *count),
            "{what}: key {}",
            keys[i]
        );
    }
}

#[test]
fn dense_tables_widen_both_ways_then_turn_sparse_and_merge_in_any_order() {
    for dtype in [Dtype::I64, Dtype::U64, Dtype::I8] {
        let (low, high) = dtype.bounds();
        let mut keys: Vec<i128> = vec![5, 3, 9, 3, 4, 20, 2];
        // Far keys that turn a table sparse, both extremes of the type.
        keys.extend([high, low, high - 1, 0, low + 1]);
        let mut expected = BTreeMap::new();
        let mut whole = KeyTable::new(dtype, Dtype::I32);
        let mut parts = [
            KeyTable::new(dtype, Dtype::I32),
            KeyTable::new(dtype, Dtype::I32),
        ];
        for (k, &key) in keys.iter().enumerate() {
            let value = (k as i128 + 1) * if k % 2 == 0 { 1 } else { -1 };
            let entry = expected.entry(key).or_insert((0, 0));
            entry.0 += value;
            entry.1 += 1;
            add(&mut whole, key, value);
            add(&mut parts[k % 2], key, value);
            assert_eq!(key_of(dtype, ordered_bits(dtype, key)), key);
        }
        check(whole, &expected, &format!("{dtype} whole"));
        let mut merged = KeyTable::new(dtype, Dtype::I32);
        merged.merge(&parts[1]);
        merged.merge(&parts[0]);
        check(merged, &expected, &format!("{dtype} merged"));
    }
}

#[test]
fn tables_absorbed_by_ranges_or_key_by_key_keep_every_key() {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut key = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Keys spread over all of i64, few enough to repeat across tables.
        i128::from((state % 3000) as i64 * 3_074_457_345_618_258)
    };
    for parallel in [false, true] {
        let mut expected = BTreeMap::new();
        let mut fill = |table: &mut KeyTable, values: usize| {
            for k in 0..values {
                let (key, value) = (key(), k as i128 - 7);
                let entry = expected.entry(key).or_insert((0, 0));
                entry.0 += value;
                entry.1 += 1;
                add(table, key, value);
            }
        };
        // Into an empty table (taken whole), then by ranges (ours no larger than theirs),
        // then key by key (ours larger).
        let mut whole = KeyTable::new(Dtype::I64, Dtype::I32);
        for (tables, values) in [(1, 500), (3, 2000), (2, 40)] {
            let others: Vec<KeyTable> = (0..tables)
                .map(|_| {
                    let mut table = KeyTable::new(Dtype::I64, Dtype::I32);
                    fill(&mut table, values);
                    table
                })
                .collect();
            whole.absorb(others, parallel);
        }
        check(whole, &expected, &format!("absorbed, parallel {parallel}"));
    }
}
