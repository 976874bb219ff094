//! NumPy `.npy` files (format version 1.0, little-endian float64, C order) of one trial's data,
//! for `onestep simulate --dump-data DIR`: another implementation (the NumPy baseline of
//! `cargo xtask bench --vs-numpy`) loads them with `numpy.load` and runs on the same numbers.
use crate::files::write_atomic;
use anyhow::{Context, Result};
use onestep_pipeline::TrialData;
use std::path::Path;

/// The bytes of an `.npy` file holding `data` with this shape (row-major).
pub fn npy_bytes(shape: &[usize], data: &[f64]) -> Vec<u8> {
    debug_assert_eq!(shape.iter().product::<usize>(), data.len());
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape}, }}");
    // Magic (6) + version (2) + length (2) + header + '\n', padded to a multiple of 64.
    let total = (10 + header.len() + 1).div_ceil(64) * 64;
    header.push_str(&" ".repeat(total - 10 - header.len() - 1));
    header.push('\n');
    let mut out = Vec::with_capacity(total + 8 * data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(
        &u16::try_from(header.len())
            .expect("short header")
            .to_le_bytes(),
    );
    out.extend_from_slice(header.as_bytes());
    for v in data {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Writes the data of one trial under `dir` (created if missing), one `.npy` per array, each
/// atomically: `beta_star`, `x_step`, `y_step`, `w0`, `a`, `x_ridge`, `y_ridge`, `x_test`,
/// `y_test`, `y_test_clean`.
pub fn dump_trial(dir: &Path, data: &TrialData) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    fn mat(m: &onestep_linalg::Dense) -> (Vec<usize>, &[f64]) {
        (vec![m.rows, m.cols], &m.data)
    }
    fn vec(v: &[f64]) -> (Vec<usize>, &[f64]) {
        (vec![v.len()], v)
    }
    let arrays = [
        ("beta_star", vec(&data.beta_star)),
        ("x_step", mat(&data.step.x)),
        ("y_step", vec(&data.step.y)),
        ("w0", mat(&data.w0)),
        ("a", vec(&data.a)),
        ("x_ridge", mat(&data.ridge.x)),
        ("y_ridge", vec(&data.ridge.y)),
        ("x_test", mat(&data.test.x)),
        ("y_test", vec(&data.test.y)),
        ("y_test_clean", vec(&data.test.y_clean)),
    ];
    for (name, (shape, values)) in arrays {
        write_atomic(&dir.join(format!("{name}.npy")), &npy_bytes(&shape, values))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_padded_and_data_follows() {
        let b = npy_bytes(&[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        let hlen = u16::from_le_bytes([b[8], b[9]]) as usize;
        assert_eq!((10 + hlen) % 64, 0);
        let header = std::str::from_utf8(&b[10..10 + hlen]).unwrap();
        assert!(header.contains("'shape': (2, 3)") && header.ends_with('\n'));
        assert_eq!(b.len(), 10 + hlen + 48);
        assert_eq!(
            f64::from_le_bytes(b[10 + hlen..18 + hlen].try_into().unwrap()),
            1.0
        );
        assert!(
            std::str::from_utf8(&npy_bytes(&[4], &[0.0; 4])[10..])
                .unwrap()
                .contains("(4,)")
        );
    }
}
