//! Parsing of command-line values that are not addresses or amounts: durations, time locks,
//! arbitrary data, hex hashes and secrets.

use crate::error::{Result, WalletError};
use tfchain_types::{Hash, Secret, Timestamp, LOCK_TIME_THRESHOLD};

/// Unix seconds now (the wallet's clock; the chain decides with block timestamps).
pub fn now() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `90`, `90s`, `15m`, `48h`, `2d` → seconds.
pub fn parse_duration(s: &str) -> Result<u64> {
    let t = s.trim();
    let (digits, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let bad = |why: &str| WalletError::bad_arg("duration", s, why);
    if digits.is_empty() {
        return Err(bad("expected e.g. 90s, 15m, 48h or 2d"));
    }
    let n: u64 = digits.parse().map_err(|_| bad("too large"))?;
    let mult = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(bad("the unit must be s, m, h or d")),
    };
    n.checked_mul(mult).ok_or_else(|| bad("too large"))
}

/// A `--lock-until` value: a number below 500,000,000 is a block height, a larger one a Unix
/// time (PROTOCOL.md §3); a date `YYYY-MM-DD[THH:MM[:SS]][Z]` (UTC) is a Unix time too.
pub fn parse_lock_until(s: &str) -> Result<u64> {
    let t = s.trim();
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t
            .parse()
            .map_err(|_| WalletError::bad_arg("--lock-until", s, "too large"));
    }
    let ts = parse_utc_date(t).ok_or_else(|| {
        WalletError::bad_arg(
            "--lock-until",
            s,
            "expected a block height, a Unix time, or a UTC date like 2030-01-31T12:00:00Z",
        )
    })?;
    if ts < LOCK_TIME_THRESHOLD {
        return Err(WalletError::bad_arg(
            "--lock-until",
            s,
            "dates before 1985-11-05 would read as block heights",
        ));
    }
    Ok(ts)
}

/// Describes a time lock for people: `height 1200` or `unix time 1893456000`.
pub fn describe_lock(until: u64) -> String {
    if until < LOCK_TIME_THRESHOLD {
        format!("block height {until}")
    } else {
        format!("{} (unix time {until})", format_time(until))
    }
}

/// A Unix time as `2030-01-31 12:00:00 UTC`.
pub fn format_time(ts: Timestamp) -> String {
    let days = ts / 86_400;
    let secs = ts % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        secs / 3_600,
        secs % 3_600 / 60,
        secs % 60
    )
}

fn parse_utc_date(s: &str) -> Option<u64> {
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut d = date.split('-');
    let y: i64 = d.next()?.parse().ok()?;
    let m: u32 = d.next()?.parse().ok()?;
    let day: u32 = d.next()?.parse().ok()?;
    if d.next().is_some() || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let (hh, mm, ss) = match time {
        None => (0, 0, 0),
        Some(t) => {
            let mut p = t.split(':');
            let hh: u64 = p.next()?.parse().ok()?;
            let mm: u64 = p.next()?.parse().ok()?;
            let ss: u64 = match p.next() {
                Some(v) => v.parse().ok()?,
                None => 0,
            };
            if p.next().is_some() || hh > 23 || mm > 59 || ss > 60 {
                return None;
            }
            (hh, mm, ss)
        }
    };
    // Days from 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let days = u64::try_from(days).ok()?;
    days.checked_mul(86_400)?
        .checked_add(hh * 3_600 + mm * 60 + ss)
}

/// `--data TEXT` or `--data-hex HEX` into bytes.
pub fn data_bytes(text: Option<&str>, hexdata: Option<&str>) -> Result<Vec<u8>> {
    match (text, hexdata) {
        (Some(t), _) => Ok(t.as_bytes().to_vec()),
        (None, Some(h)) => {
            hex::decode(h.trim()).map_err(|e| WalletError::bad_arg("--data-hex", h, e.to_string()))
        }
        (None, None) => Ok(vec![]),
    }
}

/// A 32-byte value in hex (a hashed secret).
pub fn parse_hash(what: &'static str, s: &str) -> Result<Hash> {
    s.trim()
        .parse()
        .map_err(|_| WalletError::bad_arg(what, s, "expected 64 hex characters"))
}

/// A 32-byte swap secret in hex.
pub fn parse_secret(s: &str) -> Result<Secret> {
    let mut b = [0u8; 32];
    hex::decode_to_slice(s.trim(), &mut b)
        .map_err(|_| WalletError::bad_arg("secret", "(hidden)", "expected 64 hex characters"))?;
    Ok(Secret(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90").ok(), Some(90));
        assert_eq!(parse_duration("90s").ok(), Some(90));
        assert_eq!(parse_duration("15m").ok(), Some(900));
        assert_eq!(parse_duration("48h").ok(), Some(172_800));
        assert_eq!(parse_duration("2d").ok(), Some(172_800));
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("5w").is_err());
        assert!(parse_duration("-5s").is_err());
    }

    #[test]
    fn lock_times() {
        assert_eq!(parse_lock_until("1200").ok(), Some(1200));
        assert_eq!(parse_lock_until("1893456000").ok(), Some(1_893_456_000));
        assert_eq!(parse_lock_until("2030-01-01").ok(), Some(1_893_456_000));
        assert_eq!(
            parse_lock_until("2030-01-01T12:30:15Z").ok(),
            Some(1_893_456_000 + 12 * 3600 + 30 * 60 + 15)
        );
        assert_eq!(parse_lock_until("2000-02-29T00:00").ok(), Some(951_782_400));
        assert!(parse_lock_until("1970-01-02").is_err());
        assert!(parse_lock_until("2030-13-01").is_err());
        assert!(parse_lock_until("soon").is_err());
        assert_eq!(describe_lock(5), "block height 5");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_time(1_893_501_015), "2030-01-01 12:30:15 UTC");
        for t in [0u64, 86_399, 1_700_000_000, 4_102_444_800] {
            let s = format_time(t).replace(' ', "T").replace("TUTC", "Z");
            assert_eq!(parse_utc_date(&s), Some(t), "{s}");
        }
    }

    #[test]
    fn data_and_secrets() {
        assert_eq!(data_bytes(Some("hi"), None).ok(), Some(b"hi".to_vec()));
        assert_eq!(data_bytes(None, Some("0aff")).ok(), Some(vec![10, 255]));
        assert!(data_bytes(None, Some("zz")).is_err());
        assert!(parse_secret(&"ab".repeat(32)).is_ok());
        assert!(parse_secret("ab").is_err());
        assert!(parse_hash("hash", &"00".repeat(32)).is_ok());
    }
}
