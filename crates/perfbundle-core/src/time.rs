//! Timestamps: k6 writes RFC 3339 strings; the model keeps Unix nanoseconds (`i64`, UTC).

/// Parses an RFC 3339 timestamp (`2026-11-24T19:50:03.602411393Z`, or with a
/// `+02:00` offset) into Unix nanoseconds. Returns `None` when it is not one,
/// or when it is past what Unix nanoseconds in 64 bits hold ([`parse_rfc3339`] says which).
pub fn parse_rfc3339_ns(s: &str) -> Option<i64> {
    parse_rfc3339(s).ok()
}

/// [`parse_rfc3339_ns`], saying why not: `is not an RFC 3339 time`, or, for
/// a real one outside 1677-09-21 … 2262-04-11, that it is out of range.
pub fn parse_rfc3339(s: &str) -> Result<i64, &'static str> {
    const NOT: &str = "is not an RFC 3339 time";
    match parse_parts(s) {
        None => Err(NOT),
        Some(None) => Err("is out of range: times are kept as Unix nanoseconds, from 1677-09-21 to 2262-04-11"),
        Some(Some(ns)) => Ok(ns),
    }
}

/// `None`: not RFC 3339; `Some(None)`: RFC 3339, but past 64-bit Unix nanoseconds.
fn parse_parts(s: &str) -> Option<Option<i64>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])? as i64;
    let minute = digits(&b[14..16])? as i64;
    let second = digits(&b[17..19])? as i64;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let n = i - start;
        if n == 0 {
            return None;
        }
        for _ in n..9 {
            nanos *= 10;
        }
    }
    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let h = digits(&b[i + 1..i + 3])? as i64;
            let m = digits(&b[i + 4..i + 6])? as i64;
            let off = h * 3600 + m * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs.checked_mul(1_000_000_000).and_then(|ns| ns.checked_add(nanos)))
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(c - b'0');
    }
    Some(v)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Formats Unix nanoseconds as RFC 3339 UTC with millisecond precision
/// (`2026-11-24T19:50:03.602Z`).
pub fn format_rfc3339_ms(ns: i64) -> String {
    let ms = ns.div_euclid(1_000_000);
    let secs = ms.div_euclid(1000);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

/// Formats Unix seconds as RFC 3339 UTC (`2026-11-24T19:50:03Z`).
pub fn format_rfc3339_secs(secs: i64) -> String {
    let s = format_rfc3339_ms(secs.saturating_mul(1_000_000_000));
    format!("{}Z", &s[..19])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_time_past_the_range_is_said_to_be_out_of_range() {
        assert!(parse_rfc3339("9999-12-31T23:59:59Z").unwrap_err().contains("out of range"));
        assert!(parse_rfc3339("2026-13-01T00:00:00Z").unwrap_err().contains("not an RFC 3339"));
        assert_eq!(parse_rfc3339("2262-04-11T23:47:16Z"), Ok(9_223_372_036_000_000_000));
    }

    #[test]
    fn parses_k6_timestamps() {
        assert_eq!(parse_rfc3339_ns("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339_ns("2026-11-24T19:50:03.602411393Z"), Some(1_795_549_803_602_411_393));
        assert_eq!(parse_rfc3339_ns("2026-11-24T21:50:03.5+02:00"), Some(1_795_549_803_500_000_000));
        assert_eq!(parse_rfc3339_ns("2026-11-24T19:50:03"), None);
        assert_eq!(parse_rfc3339_ns("2026-13-24T19:50:03Z"), None);
        assert_eq!(parse_rfc3339_ns("garbage"), None);
    }

    #[test]
    fn formats_round_trip() {
        let ns = 1_795_549_803_602_411_393;
        assert_eq!(format_rfc3339_ms(ns), "2026-11-24T19:50:03.602Z");
        assert_eq!(format_rfc3339_secs(0), "1970-01-01T00:00:00Z");
        assert_eq!(parse_rfc3339_ns(&format_rfc3339_ms(ns)), Some(1_795_549_803_602_000_000));
    }
}
