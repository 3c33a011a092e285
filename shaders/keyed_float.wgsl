// Exact float sums by key with integer operations only. Composed with a layout file, element.wgsl,
// keyed_params.wgsl, float_add.wgsl (run with STORAGE_COUNTERS) and float_every_digit.wgsl (the
// window alone is used). Each invocation adds a run of elements into its window while the slot
// stays the same, then moves the window to the slot's counters with atomics: SLOT_WORDS words per
// slot, a partial's layout (flags, then DIGITS 64-bit counters) and the count as 2 more words.

const SLOT_WORDS: u32 = PARTIAL_WORDS + 2u;

// Moves the window, the flags and the count of a run to its slot (whose counters the window's
// moves within the run have been going to already).
fn move_run(slot: u32, count: u32) {
    let at = slot * SLOT_WORDS;
    flush();
    if flags != 0u {
        atomicOr(&partials[at], flags);
        flags = 0u;
    }
    add_count(at + PARTIAL_WORDS, count);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) global_id: vec3<u32>) {
    let range = invocation_elements(global_id.x);
    var slot = 0xffffffffu;
    var count = 0u;
    for (var e = range.x; e < range.y; e++) {
        let next = slot_of(e);
        if next != slot {
            if count > 0u {
                move_run(slot, count);
            }
            slot = next;
            count = 0u;
            // Where the window goes when a value falls outside it, from now on.
            counters_first = slot * SLOT_WORDS + PARTIAL_HEADER_WORDS;
        }
        let v = load_element(e);
        if ELEMENT_BYTES == 8u {
            add_f64(v.x, v.y);
        } else {
            add_f32(v.x);
        }
        count += 1u;
    }
    if count > 0u {
        move_run(slot, count);
    }
}
