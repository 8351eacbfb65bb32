//! The JSON body extractor: any Content-Type is read as JSON (the public docs' curl example sends
//! none), syntax errors are `invalid_json`, type errors name the field, and bodies over the limit
//! are `413 payload_too_large`, all in the API's error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use payaiml_core::ErrorCode;

/// The largest request body accepted.
pub const BODY_LIMIT: usize = 64 * 1024;

/// A parsed JSON body, with its canonical form for idempotency checks.
pub struct ApiJson<T> {
    /// The parsed value.
    pub value: T,
    /// The body re-serialised with sorted keys: equal for equal JSON, whatever the spacing.
    pub canonical: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(
                    ErrorCode::PayloadTooLarge,
                    format!("the request body is larger than {} KiB", BODY_LIMIT / 1024),
                )
            } else {
                ApiError::new(ErrorCode::InvalidBody, format!("cannot read the body: {e}"))
            }
        })?;
        parse(&bytes)
    }
}

/// JSON Schema counts `2059.0` as the integer 2059, and so do some clients' serialisers (a
/// Python float): a number with a zero fraction, small enough to be exact in a double (at most
/// 2^53), is read as that integer, at any depth (`counter.cashier_refund_limit`, a cart line's
/// `quantity`). Any other fraction stays a float and is refused where a whole number is needed.
/// An invoice's `metadata` (the one free-form member of a request) is the client's own data and
/// is kept exactly as sent.
fn whole_numbers(mut raw: serde_json::Value) -> serde_json::Value {
    if let Some(fields) = raw.as_object_mut() {
        for (name, value) in fields.iter_mut() {
            if name != "metadata" {
                make_whole(value);
            }
        }
    }
    raw
}

fn make_whole(value: &mut serde_json::Value) {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
    match value {
        serde_json::Value::Array(items) => items.iter_mut().for_each(make_whole),
        serde_json::Value::Object(fields) => fields.values_mut().for_each(make_whole),
        serde_json::Value::Number(number) => {
            if let Some(n) = number.as_f64().filter(|_| number.is_f64()) {
                if n.fract() == 0.0 && n.abs() <= EXACT {
                    // Exact: |n| ≤ 2^53, so the cast neither rounds nor saturates.
                    *value = serde_json::Value::from(n as i64);
                }
            }
        }
        _ => {}
    }
}

/// Parses a JSON body (exposed for tests).
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<ApiJson<T>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            "the request needs a JSON object body",
        ));
    }
    let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::new(
            ErrorCode::InvalidJson,
            format!("the body is not valid JSON: {e}"),
        )
    })?;
    if !raw.is_object() {
        return Err(ApiError::new(
            ErrorCode::InvalidJson,
            "the body must be a JSON object",
        ));
    }
    let raw = whole_numbers(raw);
    let canonical = raw.to_string();
    let value = serde_path_to_error::deserialize(raw).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        // serde names unknown fields itself ("unknown field `x`, expected one of …").
        let field = if path == "." { None } else { Some(path) };
        let message = match &field {
            // serde says "invalid type: floating point `2059.5`, expected i64".
            Some(f) if inner.starts_with("invalid type: floating point") => {
                format!("{f} must be a whole number ({inner})")
            }
            Some(f) => format!("{f}: {inner}"),
            None => inner,
        };
        let err = ApiError::new(ErrorCode::InvalidField, message);
        match field {
            Some(f) => err.with_field(f),
            None => err,
        }
    })?;
    Ok(ApiJson { value, canonical })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        amount: Option<i64>,
        description: String,
    }

    #[test]
    fn errors_are_classified() {
        let e = parse::<T>(b"{not json").err().expect("error");
        assert_eq!(
            (e.status, e.code),
            (StatusCode::BAD_REQUEST, ErrorCode::InvalidJson)
        );
        let e = parse::<T>(br#"{"amount":"ten","description":"x"}"#)
            .err()
            .expect("error");
        assert_eq!(
            (e.code, e.field.as_deref()),
            (ErrorCode::InvalidField, Some("amount"))
        );
        let e = parse::<T>(br#"{"amount":1,"description":"x","colour":1}"#)
            .err()
            .expect("error");
        assert!(e.message.contains("colour"), "{}", e.message);
        assert!(parse::<T>(b"[1]").is_err());
        assert!(parse::<T>(b"").is_err());
        let a = parse::<T>(br#"{ "description":"x", "amount":1 }"#).expect("ok");
        let b = parse::<T>(br#"{"amount":1,"description":"x"}"#).expect("ok");
        assert_eq!(a.canonical, b.canonical);
    }

    #[test]
    fn whole_numbers_with_a_zero_fraction_are_integers() {
        #[derive(serde::Deserialize, Debug)]
        struct M {
            amount: i64,
            metadata: serde_json::Value,
        }
        let m = parse::<M>(br#"{"amount": 2059.0, "metadata": {"price": 2.0}}"#).expect("ok");
        assert_eq!(m.value.amount, 2059);
        // The client's own nested data is kept as sent.
        assert_eq!(m.value.metadata["price"], serde_json::json!(2.0));
        assert_eq!(
            m.canonical,
            parse::<M>(br#"{"amount": 2059, "metadata": {"price": 2.0}}"#)
                .expect("ok")
                .canonical
        );
        // Nested too: a setting's or a cart line's whole number.
        #[derive(serde::Deserialize, Debug)]
        struct Nested {
            counter: Limit,
            lines: Vec<Limit>,
        }
        #[derive(serde::Deserialize, Debug)]
        struct Limit {
            limit: u64,
        }
        let n =
            parse::<Nested>(br#"{"counter": {"limit": 4038785173.0}, "lines": [{"limit": 2.0}]}"#)
                .expect("ok");
        assert_eq!(
            (n.value.counter.limit, n.value.lines[0].limit),
            (4038785173, 2)
        );
        let e = parse::<Nested>(br#"{"counter": {"limit": 1.5}, "lines": []}"#)
            .err()
            .expect("refused");
        assert_eq!(e.field.as_deref(), Some("counter.limit"), "{}", e.message);
        // A real fraction, or a number too large to be exact, is still refused.
        for body in [
            &br#"{"amount": 2059.5, "metadata": null}"#[..],
            &br#"{"amount": 1e300, "metadata": null}"#[..],
        ] {
            let e = parse::<M>(body).err().expect("refused");
            assert_eq!(e.field.as_deref(), Some("amount"), "{}", e.message);
            assert!(
                e.message.starts_with("amount must be a whole number"),
                "{}",
                e.message
            );
        }
    }
}
