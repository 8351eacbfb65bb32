//! The Standard Webhooks signature (<https://www.standardwebhooks.com>), sent beside
//! `PayAiML-Signature` so that receivers can use the maintained `standardwebhooks` libraries:
//!
//! ```text
//! webhook-id:        evt_…                      (the event id; the same on every retry)
//! webhook-timestamp: <unix seconds>
//! webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>
//! ```
//!
//! The key is the secret's part after `whsec_`, base64-decoded, as those libraries read it.
//! New secrets are `whsec_` + base64 of 32 random bytes; secrets of endpoints created before
//! (`whsec_` + 32 letters and digits) are valid base64 too (24 bytes), so every endpoint gets both
//! headers and keeps its secret.
//!
//! ```
//! use payaiml_webhook::standard::{sign, verify};
//! let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
//! let body = br#"{"event":"payment.received"}"#;
//! let header = sign(secret, "evt_1", 1_700_000_000, body).expect("a base64 secret");
//! assert!(verify(secret, "evt_1", 1_700_000_000, &header, body, 1_700_000_030, 300).is_ok());
//! ```

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::VerifyError;

/// The header with the message id (PayAiML sends the event id).
pub const ID_HEADER: &str = "webhook-id";
/// The header with the unix time of the attempt.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// The header with the signatures, space-separated `v1,<base64>`.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// The prefix of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// The HMAC key of a `whsec_…` secret: the base64 after the prefix, decoded.
pub fn key(secret: &str) -> Result<Vec<u8>, VerifyError> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .map_err(|_| VerifyError::Malformed("the secret is not whsec_ followed by base64"))
}

/// A signing secret in the Standard Webhooks form, `whsec_` + base64 of `random` (give 32 random
/// bytes).
pub fn encode_secret(random: &[u8]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(random))
}

fn mac(key: &[u8], id: &str, timestamp: u64, body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => crate::unreachable_key_length(),
    };
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` value (`v1,<base64>`) for `body` sent as message `id` at `timestamp`.
pub fn sign(secret: &str, id: &str, timestamp: u64, body: &[u8]) -> Result<String, VerifyError> {
    let tag = mac(&key(secret)?, id, timestamp, body)
        .finalize()
        .into_bytes();
    Ok(format!("v1,{}", STANDARD.encode(tag)))
}

/// Checks the three Standard Webhooks headers against the raw `body`, with `now` in unix seconds.
/// `signatures` is the `webhook-signature` value: one or more space-separated `v1,<base64>`
/// (several while a secret is rotated; one match is enough). Constant-time comparison.
pub fn verify(
    secret: &str,
    id: &str,
    timestamp: u64,
    signatures: &str,
    body: &[u8],
    now: u64,
    tolerance_secs: u64,
) -> Result<(), VerifyError> {
    let age_secs = now.abs_diff(timestamp);
    if age_secs > tolerance_secs {
        return Err(VerifyError::Stale {
            age_secs,
            tolerance_secs,
        });
    }
    let expected = mac(&key(secret)?, id, timestamp, body);
    let mut seen_v1 = false;
    for item in signatures.split_whitespace() {
        let Some(encoded) = item.strip_prefix("v1,") else {
            // Other schemes (v1a, …) are skipped, as the specification asks.
            continue;
        };
        seen_v1 = true;
        let Ok(tag) = STANDARD.decode(encoded) else {
            continue;
        };
        if expected.clone().verify_slice(&tag).is_ok() {
            return Ok(());
        }
    }
    if seen_v1 {
        Err(VerifyError::Mismatch)
    } else {
        Err(VerifyError::Malformed("no v1,<base64> signature"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: u64 = 1_700_000_000;

    #[test]
    fn known_vector() {
        // printf 'evt_1.1700000000.{"a":1}' | openssl dgst -sha256 -binary \
        //   -mac HMAC -macopt hexkey:$(printf 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' | base64 -d | xxd -p -c 64) | base64
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        assert_eq!(
            sign(secret, "evt_1", T, br#"{"a":1}"#).ok().as_deref(),
            Some("v1,qObqaT8ae+L7ApT9haiUyL954tN4bu4sTnfiYqdvNz0=")
        );
    }

    #[test]
    fn verifies_rotation_and_refuses_tampering() {
        let (secret, old) = ("whsec_c2VjcmV0LWJ5dGVzLWZvci10ZXN0cw==", "whsec_b2xk");
        let body = b"{}";
        let good = sign(secret, "evt_2", T, body).unwrap_or_default();
        let stale = sign(old, "evt_2", T, body).unwrap_or_default();
        let both = format!("{stale} {good}");
        assert_eq!(
            verify(secret, "evt_2", T, &both, body, T + 300, 300),
            Ok(())
        );
        assert_eq!(
            verify(secret, "evt_2", T, &good, b"{ }", T, 300),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(secret, "evt_3", T, &good, body, T, 300),
            Err(VerifyError::Mismatch),
            "the id is signed"
        );
        assert_eq!(
            verify(secret, "evt_2", T + 1, &good, body, T, 300),
            Err(VerifyError::Mismatch),
            "the timestamp is signed"
        );
        assert!(matches!(
            verify(secret, "evt_2", T, &good, body, T + 301, 300),
            Err(VerifyError::Stale { .. })
        ));
        assert!(matches!(
            verify(secret, "evt_2", T, "v2,abc", body, T, 300),
            Err(VerifyError::Malformed(_))
        ));
        assert!(matches!(
            sign("whsec_not base64!", "evt_2", T, body),
            Err(VerifyError::Malformed(_))
        ));
    }
}
