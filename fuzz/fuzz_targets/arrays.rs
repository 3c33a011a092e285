//! The array readers on arbitrary bytes, as a .npy file or raw data of each type, with and without
//! a known length: none may panic, a sum read in 16-byte chunks matches one read in 4 KiB chunks,
//! and a .npy input either yields exactly the elements its header promises or fails.
#![no_main]

use gpusum::input::{ArrayReader, InputFormat, InputHints};
use gpusum::cpu::{CpuTwin, Threads};
use gpusum::{Control, Dtype};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    let dtype = Dtype::ALL[usize::from(selector) % Dtype::ALL.len()];
    let hints = match selector / 8 % 3 {
        0 => InputHints::auto(None),
        1 => InputHints::raw(dtype).with_big_endian(selector >= 128),
        _ => InputHints::auto(Some(dtype)).with_format(InputFormat::Npy),
    };
    let length = (selector % 2 == 0).then_some(bytes.len() as u64);
    // The data bytes, read in chunks of `chunk_bytes`: whole elements each time.
    let read = |chunk_bytes: usize| {
        let mut reader = ArrayReader::new(bytes, "fuzz input", hints, length)?;
        let format = reader.format();
        let size = format.dtype.size();
        let mut buffer = vec![0u8; chunk_bytes];
        let mut out = Vec::new();
        loop {
            let filled = reader.fill(&mut buffer)?;
            assert!(filled % size == 0 && filled <= chunk_bytes);
            if filled == 0 {
                break;
            }
            out.extend_from_slice(&buffer[..filled]);
        }
        if format.npy {
            assert_eq!(Some((out.len() / size) as u64), format.count);
        }
        assert!(out.len() <= bytes.len());
        Ok::<_, gpusum::Error>(out)
    };
    match (read(16), read(4096)) {
        (Ok(small), Ok(large)) => {
            assert_eq!(small, large);
            let mut reader = ArrayReader::new(bytes, "fuzz input", hints, length).unwrap();
            let total = CpuTwin::new(Threads::One).sum_reader(&mut reader, &Control::new()).unwrap();
            assert_eq!(total.count() as usize * reader.format().dtype.size(), small.len());
        }
        (Err(_), Err(_)) => {}
        (small, large) => panic!("16-byte chunks gave {small:?}, 4 KiB chunks {large:?}"),
    }
});
