//! Parsers for what users type: range bounds, lengths and durations. The CLI uses them, and
//! the fuzz targets run them on arbitrary input; none of them panics.

use std::time::Duration;

/// Why a piece of user input was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Not written as an integer.
    #[error("{0:?} is not an integer (write digits, e.g. -5 or 1_000_000)")]
    NotAnInteger(String),
    /// An integer beyond i64.
    #[error("{0} is outside the i64 range [{min}, {max}]", min = i64::MIN, max = i64::MAX)]
    OutsideI64(String),
    /// Not written as a length.
    #[error("{0:?} is not a length (write 1000, 1_000, 1e6 or 2^30)")]
    NotALength(String),
    /// A length of zero or past i64.
    #[error("length {0:?} must be 1 to 2^63 - 1")]
    LengthOutOfRange(String),
    /// Not written as a number of bytes.
    #[error("{0:?} is not a number of bytes (write 65536, 2^16, 64KiB or 32MiB)")]
    NotBytes(String),
    /// Not a number of seconds in the range gpusum takes.
    #[error(
        "{0:?} is not a number of seconds from {min} to {max:e}",
        min = MIN_SECONDS,
        max = MAX_SECONDS
    )]
    NotSeconds(String),
}

/// An i64 written as digits with an optional sign and `_` between digits.
///
/// ```
/// assert_eq!(gpusum::parse::bound("-1_000"), Ok(-1000));
/// ```
///
/// # Errors
/// [`ParseError::NotAnInteger`] or [`ParseError::OutsideI64`].
pub fn bound(text: &str) -> Result<i64, ParseError> {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    let well_formed = digits.starts_with(|c: char| c.is_ascii_digit())
        && !digits.ends_with('_')
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
    if !well_formed {
        return Err(ParseError::NotAnInteger(text.to_owned()));
    }
    let plain: String = text.chars().filter(|&c| c != '_').collect();
    plain
        .parse::<i64>()
        .map_err(|_| ParseError::OutsideI64(text.to_owned()))
}

/// A length: `1000`, `1_000`, `1e6` or `2^30`, from 1 to 2^63 - 1.
///
/// ```
/// assert_eq!(gpusum::parse::length("2^30"), Ok(1 << 30));
/// ```
///
/// # Errors
/// [`ParseError::NotALength`] or [`ParseError::LengthOutOfRange`].
pub fn length(text: &str) -> Result<u64, ParseError> {
    let plain: String = text.trim().chars().filter(|&c| c != '_').collect();
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    // All digits: too large for the type means too large for a length.
    let number = |s: &str| s.parse::<u128>().unwrap_or(u128::MAX);
    let exponent = |s: &str| s.parse::<u32>().unwrap_or(u32::MAX);
    let value: Option<u128> = if let Some((base, power)) = plain.split_once('^') {
        (digits(base) && digits(power)).then(|| {
            number(base)
                .checked_pow(exponent(power))
                .unwrap_or(u128::MAX)
        })
    } else if let Some((mantissa, power)) = plain.split_once(['e', 'E']) {
        (digits(mantissa) && digits(power)).then(|| match number(mantissa) {
            0 => 0,
            m => 10u128
                .checked_pow(exponent(power))
                .and_then(|p| m.checked_mul(p))
                .unwrap_or(u128::MAX),
        })
    } else {
        digits(&plain).then(|| number(&plain))
    };
    match value {
        Some(n) if n >= 1 && n <= i64::MAX as u128 => Ok(n as u64),
        Some(_) => Err(ParseError::LengthOutOfRange(text.to_owned())),
        None => Err(ParseError::NotALength(text.to_owned())),
    }
}

/// A number of bytes: a [`length`], or a whole number followed by `KiB`, `MiB` or `GiB`
/// (powers of 1024; `K`, `M` and `G` alone mean the same), from 1 to 2^63 - 1.
///
/// ```
/// assert_eq!(gpusum::parse::bytes("32MiB"), Ok(32 << 20));
/// assert_eq!(gpusum::parse::bytes("2^16"), Ok(65536));
/// ```
///
/// # Errors
/// [`ParseError::NotBytes`] or [`ParseError::LengthOutOfRange`].
pub fn bytes(text: &str) -> Result<u64, ParseError> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let units = [
        ("kib", 10),
        ("mib", 20),
        ("gib", 30),
        ("k", 10),
        ("m", 20),
        ("g", 30),
    ];
    let (number, shift) = units
        .iter()
        .find_map(|&(unit, shift)| lower.strip_suffix(unit).map(|n| (n.trim_end(), shift)))
        .unwrap_or((lower.as_str(), 0));
    let value = length(number).map_err(|error| match error {
        ParseError::NotALength(_) => ParseError::NotBytes(text.to_owned()),
        _ => ParseError::LengthOutOfRange(text.to_owned()),
    })?;
    value
        .checked_mul(1 << shift)
        .filter(|&bytes| bytes <= i64::MAX as u64)
        .ok_or_else(|| ParseError::LengthOutOfRange(text.to_owned()))
}

/// The shortest duration [`seconds`] takes: a millisecond. Anything shorter is over before the
/// first check, like zero.
pub const MIN_SECONDS: f64 = 0.001;
/// The longest duration [`seconds`] takes: about 31 years, far beyond any sum, well within what
/// a deadline can represent.
pub const MAX_SECONDS: f64 = 1e9;

/// A number of seconds from [`MIN_SECONDS`] to [`MAX_SECONDS`], fractions allowed.
///
/// ```
/// assert_eq!(gpusum::parse::seconds("0.5").unwrap().as_millis(), 500);
/// assert!(gpusum::parse::seconds("1e-300").is_err());
/// ```
///
/// # Errors
/// [`ParseError::NotSeconds`].
pub fn seconds(text: &str) -> Result<Duration, ParseError> {
    match text.trim().parse::<f64>() {
        Ok(seconds) if (MIN_SECONDS..=MAX_SECONDS).contains(&seconds) => {
            Ok(Duration::from_secs_f64(seconds))
        }
        _ => Err(ParseError::NotSeconds(text.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_take_binary_units() {
        assert_eq!(bytes("48"), Ok(48));
        assert_eq!(bytes("64KiB"), Ok(65536));
        assert_eq!(bytes("1 gib"), Ok(1 << 30));
        assert_eq!(bytes("4M"), Ok(4 << 20));
        assert!(matches!(bytes("MiB"), Err(ParseError::NotBytes(_))));
        assert!(matches!(bytes("1.5MiB"), Err(ParseError::NotBytes(_))));
        assert!(matches!(bytes("0"), Err(ParseError::LengthOutOfRange(_))));
        assert!(matches!(
            bytes("9999999999GiB"),
            Err(ParseError::LengthOutOfRange(_))
        ));
    }

    #[test]
    fn bounds_accept_signs_and_separators() {
        assert_eq!(bound("1_000_000"), Ok(1_000_000));
        assert_eq!(bound("-9223372036854775808"), Ok(i64::MIN));
        assert_eq!(bound("+7"), Ok(7));
        for bad in ["abc", "1.5", "", "-", "_1", "1_", "1e6", "0x10"] {
            assert!(
                bound(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("not an integer"),
                "{bad}"
            );
        }
        assert!(
            bound("9223372036854775808")
                .unwrap_err()
                .to_string()
                .contains("outside the i64 range")
        );
        assert!(matches!(
            bound("-99999999999999999999999999999999999999999"),
            Err(ParseError::OutsideI64(_))
        ));
    }

    #[test]
    fn seconds_take_one_range_and_say_it() {
        for bad in [
            "0",
            "-1",
            "abc",
            "inf",
            "NaN",
            "1e-300",
            "0.0009",
            "1e300",
            "1000000001",
        ] {
            assert_eq!(
                seconds(bad).unwrap_err().to_string(),
                format!("{bad:?} is not a number of seconds from 0.001 to 1e9"),
            );
        }
        assert_eq!(seconds("0.001"), Ok(Duration::from_millis(1)));
        assert_eq!(seconds("1e9"), Ok(Duration::from_secs(1_000_000_000)));
    }

    #[test]
    fn lengths_parse_in_every_documented_form() {
        assert_eq!(length("1e6"), Ok(1_000_000));
        assert_eq!(length("2^30"), Ok(1 << 30));
        assert_eq!(length("1_000"), Ok(1000));
        assert!(matches!(length("0"), Err(ParseError::LengthOutOfRange(_))));
        assert!(matches!(
            length("2^63"),
            Err(ParseError::LengthOutOfRange(_))
        ));
        assert!(matches!(
            length("99999999999999999999999999999999999999999"),
            Err(ParseError::LengthOutOfRange(_))
        ));
        assert!(matches!(
            length("2^99999999999"),
            Err(ParseError::LengthOutOfRange(_))
        ));
        assert_eq!(length("1^99999999999"), Ok(1));
        assert!(matches!(length("1.5e3"), Err(ParseError::NotALength(_))));
        assert!(matches!(length("-5"), Err(ParseError::NotALength(_))));
        assert!(matches!(length("lots"), Err(ParseError::NotALength(_))));
    }
}
