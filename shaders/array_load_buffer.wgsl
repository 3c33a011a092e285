// Array data in a storage buffer. Whole units come through `units`; the edge units, which may
// pass the end of that binding, word by word through `words`, a binding of the same bytes
// rounded up to whole words (reads past it are masked out by biased_unit).

@group(0) @binding(2) var<storage, read> units: array<vec4<u32>>;
@group(0) @binding(3) var<storage, read> words: array<u32>;

fn load_unit(unit: u32) -> vec4<u32> {
    return units[unit];
}

fn load_edge_unit(unit: u32) -> vec4<u32> {
    let word = 4u * unit;
    return vec4<u32>(words[word], words[word + 1u], words[word + 2u], words[word + 3u]);
}

fn load_word(word: u32) -> u32 {
    return words[word];
}
