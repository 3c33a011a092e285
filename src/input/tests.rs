//! Unit tests of the parent module.

use super::*;

fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut bytes = npy::MAGIC.to_vec();
    bytes.extend([1, 0]);
    bytes.extend((dict.len() as u16).to_le_bytes());
    bytes.extend(dict.as_bytes());
    bytes.extend(data);
    bytes
}

fn drain(reader: &mut ArrayReader<&[u8]>) -> Result<Vec<u8>, Error> {
    let mut all = Vec::new();
    let mut buffer = [0u8; 16];
    loop {
        let n = reader.fill(&mut buffer)?;
        if n == 0 {
            return Ok(all);
        }
        all.extend_from_slice(&buffer[..n]);
    }
}

fn problem(result: Result<impl Sized, Error>) -> InputProblem {
    match result {
        Err(Error::Input { problem, .. }) => problem,
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("no error"),
    }
}

#[test]
fn npy_is_recognised_and_read_to_its_count() {
    let data: Vec<u8> = (0u8..40).collect();
    let bytes = npy(
        "{'descr': '<i4', 'fortran_order': False, 'shape': (9,)}",
        &data,
    );
    let mut reader = ArrayReader::new(&bytes[..], "x.npy", InputHints::default(), None).unwrap();
    assert_eq!(reader.format().dtype, Dtype::I32);
    assert_eq!(reader.total_bytes(), Some(36));
    // Bytes past the count are not data, as numpy reads them.
    assert_eq!(drain(&mut reader).unwrap(), &data[..36]);
}

#[test]
fn raw_input_keeps_the_bytes_it_peeked_at() {
    let data: Vec<u8> = (0u8..20).collect();
    let hints = InputHints::auto(Some(Dtype::U16));
    let mut reader = ArrayReader::new(&data[..], "-", hints, None).unwrap();
    assert_eq!(drain(&mut reader).unwrap(), data);
    let short = [7u8, 0];
    let mut reader = ArrayReader::new(&short[..], "-", hints, None).unwrap();
    assert_eq!(drain(&mut reader).unwrap(), short);
}

#[test]
fn bad_inputs_say_what_is_wrong() {
    let data = [1u8; 10];
    assert!(matches!(
        problem(ArrayReader::new(
            &data[..],
            "-",
            InputHints::default(),
            None
        )),
        InputProblem::NotNpy
    ));
    let mut reader = ArrayReader::new(&data[..], "-", InputHints::raw(Dtype::I64), None).unwrap();
    assert!(matches!(
        problem(drain(&mut reader)),
        InputProblem::PartialElement { bytes: 10, .. }
    ));
    assert!(matches!(
        problem(ArrayReader::new(
            &data[..],
            "f",
            InputHints::raw(Dtype::I32),
            Some(10)
        )),
        InputProblem::PartialElement { .. }
    ));
    let truncated = npy(
        "{'descr': '<i8', 'fortran_order': False, 'shape': (3,)}",
        &[0; 20],
    );
    let mut reader =
        ArrayReader::new(&truncated[..], "t.npy", InputHints::default(), None).unwrap();
    assert!(matches!(
        problem(drain(&mut reader)),
        InputProblem::Truncated {
            expected: 24,
            got: 20
        }
    ));
    let header = npy(
        "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)}",
        &[0; 8],
    );
    let hints = InputHints::auto(Some(Dtype::I32));
    assert!(matches!(
        problem(ArrayReader::new(&header[..], "h.npy", hints, None)),
        InputProblem::DtypeMismatch { .. }
    ));
    let hints = InputHints {
        big_endian: true,
        ..InputHints::default()
    };
    assert!(matches!(
        problem(ArrayReader::new(&header[..], "h.npy", hints, None)),
        InputProblem::OrderWithNpy
    ));
}

#[test]
fn a_part_of_a_file_is_read_by_seeking_past_the_rest() {
    let values: Vec<u8> = (0u8..40).collect();
    let bytes = npy(
        "{'descr': '<i4', 'fortran_order': False, 'shape': (10,)}",
        &values,
    );
    let mut reader =
        ArrayReader::new(io::Cursor::new(&bytes), "x", InputHints::default(), None).unwrap();
    reader.select(3..7).unwrap();
    assert_eq!(reader.format().count, Some(4));
    let mut buffer = [0u8; 32];
    assert_eq!(reader.fill(&mut buffer).unwrap(), 16);
    assert_eq!(&buffer[..16], &values[12..28]);
    assert_eq!(reader.fill(&mut buffer).unwrap(), 0);

    // Raw input sniffed for the magic: the first bytes, read already, are data's.
    let raw = InputHints::auto(Some(Dtype::U8));
    let length = Some(values.len() as u64);
    let mut reader = ArrayReader::new(io::Cursor::new(&values), "x", raw, length).unwrap();
    reader.select(2..5).unwrap();
    assert_eq!(reader.fill(&mut buffer).unwrap(), 3);
    assert_eq!(&buffer[..3], &values[2..5]);
}

#[test]
fn a_part_past_a_truncated_end_or_outside_the_array_is_refused() {
    let bytes = npy(
        "{'descr': '<i4', 'fortran_order': False, 'shape': (10,)}",
        &[0u8; 24],
    );
    let open = || {
        let length = Some(bytes.len() as u64);
        ArrayReader::new(io::Cursor::new(&bytes), "x", InputHints::default(), length).unwrap()
    };
    assert!(open().select(0..6).is_ok());
    assert!(matches!(
        problem(open().select(5..10)),
        InputProblem::Truncated {
            expected: 40,
            got: 24
        }
    ));
    assert!(matches!(
        open().select(8..11),
        Err(Error::InvalidArray { .. })
    ));
    let mut reader = open();
    reader.fill(&mut [0u8; 16]).unwrap();
    assert!(matches!(
        reader.select(0..1),
        Err(Error::InvalidArray { .. })
    ));
}
