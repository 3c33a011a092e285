//! Floats as text: the shortest decimal that reads back as the same value.

use super::ExactFloat;

/// The shortest decimal that parses back to exactly `value`: plain digits from 1e-5 up to
/// 1e16, exponent notation outside (`1e308`, `2.5e-7`), and `nan`, `inf`, `-inf`. A negative
/// zero keeps its sign (`-0`).
///
/// ```
/// use gpusum::float::shortest_decimal;
/// assert_eq!(shortest_decimal(0.1f32), "0.1");
/// assert_eq!(shortest_decimal(210.0f64), "210");
/// assert_eq!(shortest_decimal(1e308f64), "1e308");
/// assert_eq!(shortest_decimal(f64::NAN), "nan");
/// ```
#[must_use]
pub fn shortest_decimal<T: ExactFloat>(value: T) -> String {
    let wide: f64 = value.into();
    if wide.is_nan() {
        return "nan".into();
    }
    if wide.is_infinite() {
        return if wide > 0.0 { "inf" } else { "-inf" }.into();
    }
    let magnitude = wide.abs();
    // Rust prints the shortest digits that read back, in either notation.
    if magnitude == 0.0 || (1e-5..1e16).contains(&magnitude) {
        format!("{value}")
    } else {
        format!("{value:e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_printed_value_reads_back_exactly() {
        let values = [
            0.0,
            -0.0,
            1.0,
            -2.5,
            0.1,
            1e-5,
            9.999e-6,
            1e16,
            123456789012345.6,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            -1.7976931348623157e308,
        ];
        for value in values {
            let text = shortest_decimal(value);
            assert_eq!(
                text.parse::<f64>().unwrap().to_bits(),
                value.to_bits(),
                "{text}"
            );
        }
        for value in [0.1f32, f32::MAX, 1e-45, 16777216.0, -3.4e-39] {
            let text = shortest_decimal(value);
            assert_eq!(
                text.parse::<f32>().unwrap().to_bits(),
                value.to_bits(),
                "{text}"
            );
        }
        assert_eq!(shortest_decimal(-0.0f64), "-0");
        assert_eq!(shortest_decimal(f32::NEG_INFINITY), "-inf");
        assert_eq!(shortest_decimal(1e16f64), "1e16");
        assert_eq!(shortest_decimal(2.5e-7f64), "2.5e-7");
        assert_eq!(shortest_decimal(0.1f32), "0.1");
    }
}
