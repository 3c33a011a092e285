// Integer sums by key, in core WGSL. Composed with limbs.wgsl, a layout file, element.wgsl and
// keyed_params.wgsl. Each invocation adds a run of elements, keeping a running sum while the slot
// stays the same (sorted or clustered keys), and moves it to its slot with atomics: SLOT_WORDS
// words per slot, the biased sum as 4 limbs (below 2^64 * 2^31 per dispatch: no wrap) and the
// count as 2.

@group(0) @binding(1) var<storage, read_write> partials: array<atomic<u32>>;

const SLOT_WORDS: u32 = 6u;

// Adds `value` (4 limbs) to the slot's sum: each word's carry, seen from its old value, goes to
// the next, so the words hold the exact sum of every value added whatever their order.
fn add_to_slot(slot: u32, value: vec4<u32>, count: u32) {
    let at = slot * SLOT_WORDS;
    var carry = 0u;
    for (var k = 0u; k < 4u; k++) {
        let add = value[k] + carry;
        carry = select(0u, 1u, add < carry);
        if add != 0u {
            let old = atomicAdd(&partials[at + k], add);
            carry += select(0u, 1u, old + add < old);
        }
    }
    add_count(at + 4u, count);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) global_id: vec3<u32>) {
    let range = invocation_elements(global_id.x);
    var slot = 0xffffffffu;
    var s = Running(0u, 0u, 0u, 0u);
    var count = 0u;
    for (var e = range.x; e < range.y; e++) {
        let next = slot_of(e);
        if next != slot {
            if count > 0u {
                add_to_slot(slot, as_limbs(s), count);
            }
            slot = next;
            s = Running(0u, 0u, 0u, 0u);
            count = 0u;
        }
        s = add_element(s, load_element(e));
        count += 1u;
    }
    if count > 0u {
        add_to_slot(slot, as_limbs(s), count);
    }
}
