//! Small helpers shared by the core: clocks, ids, hashing.

use chrono::{DateTime, Duration, NaiveDate, TimeZone};
use rand::distributions::Alphanumeric;
use rand::Rng;
use sha2::{Digest, Sha256};

/// Milliseconds since the Unix epoch (UTC).
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Formats unix milliseconds as an RFC 3339 UTC string with second precision.
pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Writes `bytes` to `path` readable by the owner only (mode 0600 on Unix): into a fresh file
/// beside it (created new, so never a file or link that was there already), synced, then renamed
/// over `path`, so a crash leaves the old file or the new one, never a torn one.
pub fn write_private_file(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension(format!("tmp{}", random_lower(8)));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    match written.and_then(|()| std::fs::rename(&tmp, path)) {
        Ok(()) => Ok(()),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// A random lowercase alphanumeric string of `len` characters.
pub fn random_lower(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(|b| char::from(b).to_ascii_lowercase())
        .collect()
}

/// A random mixed-case alphanumeric string of `len` characters (~5.95 bits each).
pub fn random_alnum(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Parses a positive duration such as `500ms`, `90s` (or `90`), `15m`, `12h`, `30d`.
pub fn parse_duration(text: &str) -> Option<std::time::Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (num, unit) = text.split_at(split);
    let n: u64 = num.parse().ok()?;
    let ms = match unit {
        "ms" => Some(n),
        "" | "s" => n.checked_mul(1000),
        "m" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        "d" => n.checked_mul(86_400_000),
        _ => None,
    }?;
    (ms > 0).then(|| std::time::Duration::from_millis(ms))
}

/// `1234567` → `1,234,567`, for amounts people read.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A new object id such as `inv_3k9…`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_lower(20))
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Tells `null` (present, none) from an absent field in a change request:
/// `#[serde(default, deserialize_with = "crate::util::present")]` on an `Option<Option<T>>`.
/// On an `Option<T>` whose `T` is not an `Option`, the same refuses `null` (absent stays `None`).
pub(crate) fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// `text` made safe to open in a spreadsheet: a field starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would run as a formula, so it gets a leading `'` (as OWASP advises).
pub fn neutralise(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

// The merchant's days, for reports and the till (which both count by them).

/// When `date` begins in `tz` (unix ms): local midnight, or the first moment after it when a
/// clock change skips midnight.
pub(crate) fn day_start<Tz: TimeZone>(tz: &Tz, date: NaiveDate) -> i64 {
    let midnight = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..3)
        .find_map(|h| {
            tz.from_local_datetime(&(midnight + Duration::hours(h)))
                .earliest()
        })
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|| midnight.and_utc().timestamp_millis())
}

/// `ms` in `tz`, as RFC 3339 with the offset.
pub(crate) fn local<Tz: TimeZone>(tz: &Tz, ms: i64) -> DateTime<Tz> {
    tz.timestamp_millis_opt(ms)
        .earliest()
        .unwrap_or_else(|| tz.from_utc_datetime(&DateTime::UNIX_EPOCH.naive_utc()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(1234567), "1,234,567");
    }

    #[test]
    fn ids_have_prefix_and_entropy() {
        let a = new_id("inv");
        assert!(a.starts_with("inv_") && a.len() == 24);
        assert_ne!(a, new_id("inv"));
    }

    #[test]
    fn time_formats_as_rfc3339_utc() {
        assert_eq!(rfc3339(1_705_314_600_000), "2024-01-15T10:30:00Z");
    }
}
