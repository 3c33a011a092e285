//! Unit tests of the parent module.

use super::*;

fn file(version: u8, dict: &str) -> Vec<u8> {
    let mut bytes = MAGIC.to_vec();
    bytes.extend([version, 0]);
    if version == 1 {
        bytes.extend((dict.len() as u16).to_le_bytes());
    } else {
        bytes.extend((dict.len() as u32).to_le_bytes());
    }
    bytes.extend(dict.as_bytes());
    bytes
}

fn header(version: u8, dict: &str) -> Result<NpyHeader, HeaderError> {
    read_header(&mut &file(version, dict)[..])
}

fn problem(version: u8, dict: &str) -> InputProblem {
    match header(version, dict) {
        Err(HeaderError::Problem(problem)) => problem,
        other => panic!("{dict}: {other:?}"),
    }
}

#[test]
fn reads_what_numpy_writes() {
    let parsed = header(
        1,
        "{'descr': '<i8', 'fortran_order': False, 'shape': (3, 4), }          \n",
    )
    .unwrap();
    assert_eq!(
        (parsed.dtype, parsed.order, parsed.count, parsed.shape.len()),
        (Dtype::I64, ByteOrder::Little, 12, 2)
    );
    assert_eq!(parsed.data_offset, 10 + 70);
    let parsed = header(2, "{'descr': '>u2', 'fortran_order': True, 'shape': (5,)}").unwrap();
    assert_eq!(
        (
            parsed.dtype,
            parsed.order,
            parsed.fortran_order,
            parsed.count
        ),
        (Dtype::U16, ByteOrder::Big, true, 5)
    );
    let scalar = header(
        3,
        "{\"descr\":\"|u1\",\"fortran_order\":False,\"shape\":()}",
    )
    .unwrap();
    assert_eq!((scalar.count, scalar.version), (1, (3, 0)));
    let empty = header(
        1,
        "{'descr': '<i4', 'fortran_order': False, 'shape': (0, 7)}",
    )
    .unwrap();
    assert_eq!(empty.count, 0);
    let long = header(
        1,
        "{'descr': '<i4', 'fortran_order': False, 'shape': (2L, 3L)}",
    )
    .unwrap();
    assert_eq!(long.count, 6);
}

#[test]
fn names_types_it_cannot_sum() {
    for (descr, kind) in [
        ("<f2", "floats of a width gpusum does not sum"),
        ("<f16", "floats of a width gpusum does not sum"),
        ("|O", "Python objects"),
        ("<U5", "Unicode strings"),
        ("|b1", "booleans"),
        ("<c16", "complex numbers"),
        ("<M8[ns]", "datetimes"),
    ] {
        let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (2,)}}");
        match problem(1, &dict) {
            InputProblem::UnsupportedDtype { kind: found, .. } => assert_eq!(found, kind),
            other => panic!("{descr}: {other:?}"),
        }
    }
    let structured =
        "{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (2,)}";
    assert!(matches!(
        problem(1, structured),
        InputProblem::UnsupportedDtype { .. }
    ));
}

#[test]
fn refuses_malformed_headers() {
    for dict in [
        "",
        "{",
        "{'descr': '<i8', 'fortran_order': False}",
        "{'descr': '<i8', 'shape': (1,)}",
        "{'descr': 'i8', 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<i8', 'fortran_order': 0, 'shape': (1,)}",
        "{'descr': '<i8', 'fortran_order': False, 'shape': (1,)} trailing",
        "{'descr': '<i8', 'fortran_order': False, 'shape': (-1,)}",
        "{'descr': '<i8', 'fortran_order': False, 'shape': ('a',)}",
        "{'descr': '<i8', 'fortran_order': False, 'shape': (4294967296, 4294967296)}",
        "{'descr': '<i8, 'fortran_order': False, 'shape': (1,)}",
        "{'descr': '<i8', 'fortran_order': False, 'shape': ((((((((((1,),),),),),),),),),)}",
    ] {
        assert!(
            matches!(problem(1, dict), InputProblem::BadHeader { .. }),
            "{dict}"
        );
    }
    let mut wrong_version = file(1, "{}");
    wrong_version[6] = 4;
    assert!(read_header(&mut &wrong_version[..]).is_err());
    assert!(matches!(
        read_header(&mut &b"\x93NUMP"[..]),
        Err(HeaderError::Problem(
            InputProblem::NotNpy | InputProblem::BadHeader { .. }
        ))
    ));
    assert!(matches!(
        read_header(&mut &b"PK\x03\x04 a zip"[..]),
        Err(HeaderError::Problem(InputProblem::NotNpy))
    ));
    let mut cut = file(1, "{'descr': '<i8', 'fortran_order': False, 'shape': (3,)}");
    cut.truncate(30);
    assert!(matches!(
        read_header(&mut &cut[..]),
        Err(HeaderError::Problem(InputProblem::BadHeader { .. }))
    ));
}
