//! BTCPay Server's webhook signature, for endpoints registered through the Greenfield-compatible
//! API: `BTCPay-Sig: sha256=<hex HMAC-SHA256(secret, raw body)>`, the secret's UTF-8 bytes as
//! the key. Shop plugins written for BTCPay (and BTCPay's client libraries) verify exactly this.
//! It has no timestamp, so unlike [`crate::sign`] it does not bound replays: receivers dedupe on
//! the body's `deliveryId`, as they do with BTCPay.
//!
//! ```
//! use payaiml_webhook::btcpay::{sign, verify};
//! let body = br#"{"type":"InvoiceSettled"}"#;
//! let header = sign("secret", body);
//! assert!(header.starts_with("sha256="));
//! assert!(verify("secret", &header, body));
//! assert!(!verify("secret", &header, b"{}"));
//! ```

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header with the signature.
pub const SIGNATURE_HEADER: &str = "BTCPay-Sig";

/// The header value for `body` under `secret`: `sha256=<lowercase hex>`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(mac(secret, body).finalize().into_bytes())
    )
}

/// Whether `header` is the signature of `body` under `secret` (constant-time comparison; the
/// hex may be in either case).
pub fn verify(secret: &str, header: &str, body: &[u8]) -> bool {
    let Some(hex_sig) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let Ok(expected) = hex::decode(hex_sig.to_ascii_lowercase()) else {
        return false;
    };
    mac(secret, body).verify_slice(&expected).is_ok()
}

fn mac(secret: &str, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => crate::unreachable_key_length(),
    };
    mac.update(body);
    mac
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signature computed independently (Python: hmac.new(b"key", b"hello", sha256)).
    #[test]
    fn matches_a_known_hmac() {
        assert_eq!(
            sign("key", b"hello"),
            "sha256=9307b3b915efb5171ff14d8cb55fbcc798c6c0ef1456d66ded1a6aa723a58b7b"
        );
        assert!(verify(
            "key",
            "sha256=9307B3B915EFB5171FF14D8CB55FBCC798C6C0EF1456D66DED1A6AA723A58B7B",
            b"hello"
        ));
        assert!(!verify("other", &sign("key", b"hello"), b"hello"));
        assert!(!verify("key", "9307b3b9", b"hello"));
    }
}
