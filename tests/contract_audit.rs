//! Regressions found by the contract audit against `API.md` (a user's reading of the error
//! messages: they must say what was wrong, with which value, and be true).

use nninit::{Error, Fans};

#[test]
fn a_shape_with_fewer_than_two_dimensions_has_no_fans_and_says_so_in_english() {
    // Before: "shape must be at least 2 dimensions to compute fans, got [3]".
    for (shape, shown) in [(&[3usize][..], "[3]"), (&[][..], "[]")] {
        let error = Fans::from_shape(shape).unwrap_err();
        assert!(matches!(
            error,
            Error::InvalidArgument { name: "shape", .. }
        ));
        assert_eq!(
            error.to_string(),
            format!("shape must be at least 2-dimensional to compute fans, got {shown}")
        );
    }
}

#[test]
fn a_structured_npy_is_refused_with_a_true_reason() {
    // numpy: np.save(path, np.zeros(3, dtype=[("a", "<f4"), ("b", "<f4")])).
    // Integer and bool arrays do load (converted to f32), so the message must not claim that
    // only float arrays do (before: "only plain float arrays load").
    let header = "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (3,), }";
    let padding = 64 - (10 + header.len() + 1) % 64;
    let header = format!("{header}{}\n", " ".repeat(padding % 64));
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&[0u8; 24]);
    let path = std::env::temp_dir().join(format!("nninit-audit-record-{}.npy", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let error = nninit::io::load_npy(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(
        matches!(error, Error::UnsupportedDtype { format: "npy", .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("structured dtype (record array)"),
        "{message}"
    );
    assert!(
        message.contains("only plain numeric or bool arrays load"),
        "{message}"
    );
}
