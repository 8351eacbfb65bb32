//! Signing and verifying PayAiML Merchant webhooks.
//!
//! Every webhook request carries
//!
//! ```text
//! PayAiML-Event-Id: evt_…
//! PayAiML-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
//! ```
//!
//! The timestamp is inside the signed text, so a captured request cannot be replayed later than
//! the tolerance (300 s by default), and the signature covers the exact bytes of the body, so a
//! receiver must verify the raw body before parsing it. A header may carry several `v1=` values
//! (one per secret while a secret is being rotated); one match is enough.
//!
//! ```
//! use payaiml_webhook::{sign, verify, DEFAULT_TOLERANCE_SECS};
//! let body = br#"{"event":"payment.received","amount":1000}"#;
//! let header = sign("whsec_test", 1_700_000_000, body);
//! assert!(verify("whsec_test", &header, body, 1_700_000_100, DEFAULT_TOLERANCE_SECS).is_ok());
//! assert!(verify("whsec_test", &header, b"{}", 1_700_000_100, DEFAULT_TOLERANCE_SECS).is_err());
//! ```
//!
//! The same requests also carry the [Standard Webhooks](https://www.standardwebhooks.com)
//! headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`), so a shop can verify them
//! with the maintained `standardwebhooks` packages in any language instead: see [`standard`].
#![deny(missing_docs)]

pub mod btcpay;
pub mod standard;

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "PayAiML-Signature";
/// The header with the event id, the key receivers dedupe on.
pub const EVENT_ID_HEADER: &str = "PayAiML-Event-Id";
/// How far the signed timestamp may be from the receiver's clock, in seconds.
pub const DEFAULT_TOLERANCE_SECS: u64 = 300;

/// Why a request did not verify. Each says what a receiver should look at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header is not `t=<digits>,v1=<hex>[,v1=<hex>…]`.
    #[error("the PayAiML-Signature header is malformed: {0}")]
    Malformed(&'static str),
    /// The timestamp is outside the tolerance (a replay, or a clock far off).
    #[error("the signature's timestamp is {age_secs} s away from now (more than {tolerance_secs} s): a replay or a wrong clock")]
    Stale {
        /// |now − t| in seconds.
        age_secs: u64,
        /// The tolerance that was applied.
        tolerance_secs: u64,
    },
    /// No `v1` value matches the body under this secret.
    #[error("the signature does not match this body and secret (was the body changed, or parsed and re-serialised before verifying?)")]
    Mismatch,
}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, timestamp: u64, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable_key_length(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

#[cold]
pub(crate) fn unreachable_key_length() -> ! {
    panic!("HMAC-SHA256 takes keys of any length")
}

/// The `PayAiML-Signature` header value for `body` signed at `timestamp` (unix seconds).
pub fn sign(secret: &str, timestamp: u64, body: &[u8]) -> String {
    let tag = mac(secret, timestamp, body).finalize().into_bytes();
    format!("t={timestamp},v1={}", hex::encode(tag))
}

/// Checks a `PayAiML-Signature` header against the raw `body`, with `now` in unix seconds.
/// The comparison is constant-time.
pub fn verify(
    secret: &str,
    header: &str,
    body: &[u8],
    now: u64,
    tolerance_secs: u64,
) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in header.split(',') {
        let (name, value) = part
            .trim()
            .split_once('=')
            .ok_or(VerifyError::Malformed("each part must be name=value"))?;
        match name {
            "t" => {
                let t = value
                    .parse::<u64>()
                    .map_err(|_| VerifyError::Malformed("t must be unix seconds"))?;
                timestamp = Some(t);
            }
            "v1" => {
                tags.push(hex::decode(value).map_err(|_| VerifyError::Malformed("v1 must be hex"))?)
            }
            // Later schemes (v2, …) are ignored by receivers that do not know them.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed("no t= part"))?;
    if tags.is_empty() {
        return Err(VerifyError::Malformed("no v1= part"));
    }
    let age_secs = now.abs_diff(timestamp);
    if age_secs > tolerance_secs {
        return Err(VerifyError::Stale {
            age_secs,
            tolerance_secs,
        });
    }
    let expected = mac(secret, timestamp, body);
    if tags
        .iter()
        .any(|tag| expected.clone().verify_slice(tag).is_ok())
    {
        Ok(())
    } else {
        Err(VerifyError::Mismatch)
    }
}

/// [`verify`] against the system clock with the default tolerance.
pub fn verify_now(secret: &str, header: &str, body: &[u8]) -> Result<(), VerifyError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    verify(secret, header, body, now, DEFAULT_TOLERANCE_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_700_000_000;

    #[test]
    fn known_vector() {
        // printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_k
        assert_eq!(
            sign("whsec_k", T, br#"{"a":1}"#),
            "t=1700000000,v1=a252a4340d8bbbdbac8643a2812cc7d628ad79bfba544bff054ac2fa10f795a2"
        );
    }

    #[test]
    fn accepts_within_tolerance_and_rejects_tampering() {
        let body = br#"{"event":"payment.received"}"#;
        let header = sign("s", T, body);
        assert_eq!(verify("s", &header, body, T + 300, 300), Ok(()));
        assert_eq!(verify("s", &header, body, T - 300, 300), Ok(()));
        assert_eq!(
            verify("s", &header, body, T + 301, 300),
            Err(VerifyError::Stale {
                age_secs: 301,
                tolerance_secs: 300
            })
        );
        assert_eq!(
            verify("s", &header, br#"{"event":"payment.received "}"#, T, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify("other", &header, body, T, 300),
            Err(VerifyError::Mismatch)
        );
        // A changed timestamp breaks the signature, so it cannot be refreshed by an attacker.
        let moved = header.replacen(&T.to_string(), &(T + 10).to_string(), 1);
        assert_eq!(
            verify("s", &moved, body, T, 300),
            Err(VerifyError::Mismatch)
        );
    }

    #[test]
    fn rotation_and_malformed_headers() {
        let body = b"x";
        let good = sign("new", T, body);
        let old = sign("old", T, body);
        let both = format!("{},{}", old, &good[good.find("v1").unwrap_or(0)..]);
        assert_eq!(verify("new", &both, body, T, 300), Ok(()));
        for bad in ["", "t=1", "v1=00", "t=x,v1=00", "t=1,v1=zz", "garbage"] {
            assert!(
                matches!(
                    verify("s", bad, body, T, 300),
                    Err(VerifyError::Malformed(_))
                ),
                "{bad}"
            );
        }
    }
}
