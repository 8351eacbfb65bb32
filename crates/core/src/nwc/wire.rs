//! NIP-47 on the wire: the events (request 23194, response 23195, notifications 23196/23197,
//! info 13194), their encryption, the error codes, and the transaction object. Events, keys and
//! the NIP-44/NIP-04 ciphers are rust-nostr's (`nostr-sdk`), a maintained implementation with
//! the NIP-44 test vectors in its suite, rather than our own cryptography.

use nostr_sdk::nips::{nip04, nip44};
use nostr_sdk::prelude::{
    Event, EventBuilder, EventId, JsonUtil, Keys, Kind, PublicKey, Tag, TagKind, Timestamp,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{Error, ErrorCode as CoreCode};

/// The request kind.
pub const REQUEST: u16 = 23194;
/// NIP-44 notifications.
const NOTIFICATION_NIP44: u16 = 23197;

/// The encryption a request came in (and its answer goes out in).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encryption {
    /// NIP-44 v2: what current clients use, and what the info event offers first.
    Nip44,
    /// NIP-04: the original NIP-47 encryption, for clients written before NIP-44 came to it.
    /// A request without an `encryption` tag is NIP-04 (the NIP says so).
    Nip04,
}

impl Encryption {
    /// The name in the `encryption` tag.
    pub fn as_str(self) -> &'static str {
        match self {
            Encryption::Nip44 => "nip44_v2",
            Encryption::Nip04 => "nip04",
        }
    }
}

/// NIP-47's error codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// Too many requests.
    RateLimited,
    /// A method this wallet does not have.
    NotImplemented,
    /// Not enough to pay.
    InsufficientBalance,
    /// Past the connection's budget.
    QuotaExceeded,
    /// A method this connection may not use.
    Restricted,
    /// No such connection, or it is revoked or expired.
    Unauthorized,
    /// Our fault.
    Internal,
    /// The request's encryption is not one we speak.
    UnsupportedEncryption,
    /// A bad request, said in the message.
    Other,
    /// The payment failed.
    PaymentFailed,
    /// No such invoice or payment.
    NotFound,
}

impl Code {
    /// As NIP-47 writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::RateLimited => "RATE_LIMITED",
            Code::NotImplemented => "NOT_IMPLEMENTED",
            Code::InsufficientBalance => "INSUFFICIENT_BALANCE",
            Code::QuotaExceeded => "QUOTA_EXCEEDED",
            Code::Restricted => "RESTRICTED",
            Code::Unauthorized => "UNAUTHORIZED",
            Code::Internal => "INTERNAL",
            Code::UnsupportedEncryption => "UNSUPPORTED_ENCRYPTION",
            Code::Other => "OTHER",
            Code::PaymentFailed => "PAYMENT_FAILED",
            Code::NotFound => "NOT_FOUND",
        }
    }
}

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NwcError {
    /// Its code.
    pub code: Code,
    /// What happened, for a person.
    pub message: String,
}

impl NwcError {
    /// An error with `code`.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        NwcError {
            code,
            message: message.into(),
        }
    }
}

impl From<&Error> for NwcError {
    /// The core's errors in NIP-47's words; the message is the core's own (it names the field
    /// and what to do).
    fn from(e: &Error) -> Self {
        let code = match e.code() {
            CoreCode::BudgetExceeded => Code::QuotaExceeded,
            CoreCode::InsufficientBalance => Code::InsufficientBalance,
            CoreCode::NotFound => Code::NotFound,
            CoreCode::PaymentFailed | CoreCode::DuplicatePayment => Code::PaymentFailed,
            CoreCode::RevokedApiKey | CoreCode::ExpiredApiKey | CoreCode::KeyRevoked => {
                Code::Unauthorized
            }
            CoreCode::MissingPermission | CoreCode::KeyScopeExceeded => Code::Restricted,
            CoreCode::RateLimited => Code::RateLimited,
            CoreCode::DatabaseError
            | CoreCode::SecretStoreError
            | CoreCode::IoError
            | CoreCode::InvalidConfig
            | CoreCode::InternalError
            | CoreCode::NodeError => Code::Internal,
            _ => Code::Other,
        };
        let message = match e.field() {
            Some(field) => format!("{e} ({field})"),
            None => e.to_string(),
        };
        NwcError::new(code, message)
    }
}

impl From<Error> for NwcError {
    fn from(e: Error) -> Self {
        NwcError::from(&e)
    }
}

/// A decrypted request.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method name.
    pub method: String,
    /// Its parameters (an object; `{}` when absent).
    pub params: Value,
    /// The encryption it came in.
    pub encryption: Encryption,
    /// Its `expiration` tag, if any (unix seconds): not to be carried out after it.
    pub expires_at: Option<u64>,
}

/// Reads a request event addressed to `wallet`: the encryption from its tag, the content
/// decrypted and parsed. The method is `None` when the content cannot be read (the answer then
/// names no method).
pub fn open_request(
    event: &Event,
    wallet: &Keys,
) -> Result<Request, (Option<Encryption>, NwcError)> {
    let encryption = match event
        .tags
        .iter()
        .find(|t| t.kind() == TagKind::custom("encryption"))
        .and_then(|t| t.content())
    {
        None => Encryption::Nip04,
        Some(names) => {
            let names: Vec<&str> = names.split_whitespace().collect();
            if names.contains(&"nip44_v2") {
                Encryption::Nip44
            } else if names.contains(&"nip04") {
                Encryption::Nip04
            } else {
                // Answered in NIP-44, which NIP-47 says a wallet should then use.
                return Err((
                    Some(Encryption::Nip44),
                    NwcError::new(
                        Code::UnsupportedEncryption,
                        format!(
                            "this wallet speaks nip44_v2 and nip04, not '{}'",
                            names.join(" ")
                        ),
                    ),
                ));
            }
        }
    };
    let plain = match encryption {
        Encryption::Nip44 => nip44::decrypt(wallet.secret_key(), &event.pubkey, &event.content)
            .map_err(|e| e.to_string()),
        Encryption::Nip04 => nip04::decrypt(wallet.secret_key(), &event.pubkey, &event.content)
            .map_err(|e| e.to_string()),
    }
    .map_err(|e| {
        (
            Some(encryption),
            NwcError::new(
                Code::Other,
                format!(
                    "the request cannot be decrypted with {} ({e})",
                    encryption.as_str()
                ),
            ),
        )
    })?;
    let value: Value = serde_json::from_str(&plain).map_err(|e| {
        (
            Some(encryption),
            NwcError::new(Code::Other, format!("the request is not JSON: {e}")),
        )
    })?;
    let method = value
        .get("method")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            (
                Some(encryption),
                NwcError::new(Code::Other, "the request has no \"method\""),
            )
        })?
        .to_string();
    let params = match value.get("params") {
        None | Some(Value::Null) => json!({}),
        Some(p @ Value::Object(_)) => p.clone(),
        Some(_) => {
            return Err((
                Some(encryption),
                NwcError::new(Code::Other, "\"params\" must be an object"),
            ))
        }
    };
    let expires_at = event
        .tags
        .iter()
        .find(|t| t.kind() == TagKind::Expiration)
        .and_then(|t| t.content())
        .and_then(|s| s.parse().ok());
    Ok(Request {
        method,
        params,
        encryption,
        expires_at,
    })
}

/// The JSON of an answer: `{result_type, result}` or `{result_type, error: {code, message}}`.
pub fn response_content(method: &str, answer: &Result<Value, NwcError>) -> String {
    match answer {
        Ok(result) => json!({"result_type": method, "result": result}),
        Err(e) => json!({
            "result_type": method,
            "error": {"code": e.code.as_str(), "message": e.message},
        }),
    }
    .to_string()
}

fn encrypt(
    wallet: &Keys,
    client: &PublicKey,
    encryption: Encryption,
    plain: &str,
) -> Result<String, Error> {
    match encryption {
        Encryption::Nip44 => nip44::encrypt(
            wallet.secret_key(),
            client,
            plain,
            nip44::Version::default(),
        )
        .map_err(|e| Error::Node(format!("cannot encrypt a NIP-47 answer: {e}"))),
        Encryption::Nip04 => nip04::encrypt(wallet.secret_key(), client, plain)
            .map_err(|e| Error::Node(format!("cannot encrypt a NIP-47 answer: {e}"))),
    }
}

fn sign(builder: EventBuilder, wallet: &Keys) -> Result<String, Error> {
    builder
        .sign_with_keys(wallet)
        .map(|e| e.as_json())
        .map_err(|e| Error::Node(format!("cannot sign a NIP-47 event: {e}")))
}

/// The signed answer to request `request` (JSON): encrypted as the request was, tagged with
/// the app (`p`) and the request (`e`), and for one invoice of `multi_pay_invoice` its `d`.
pub fn response_event(
    wallet: &Keys,
    client: &PublicKey,
    request: &EventId,
    encryption: Encryption,
    content: &str,
    d: Option<&str>,
) -> Result<String, Error> {
    let mut tags = vec![Tag::public_key(*client), Tag::event(*request)];
    if let Some(d) = d {
        tags.push(Tag::identifier(d));
    }
    let content = encrypt(wallet, client, encryption, content)?;
    sign(
        EventBuilder::new(Kind::WalletConnectResponse, content).tags(tags),
        wallet,
    )
}

/// The signed notification events (JSON) for one notification: NIP-44 (kind 23197) always, and
/// NIP-04 (kind 23196) too for an app that spoke NIP-04.
pub fn notification_events(
    wallet: &Keys,
    client: &PublicKey,
    legacy_nip04: bool,
    notification_type: &str,
    notification: &Value,
) -> Result<Vec<String>, Error> {
    let plain =
        json!({"notification_type": notification_type, "notification": notification}).to_string();
    let mut out = vec![sign(
        EventBuilder::new(
            Kind::Custom(NOTIFICATION_NIP44),
            encrypt(wallet, client, Encryption::Nip44, &plain)?,
        )
        .tag(Tag::public_key(*client)),
        wallet,
    )?];
    if legacy_nip04 {
        out.push(sign(
            EventBuilder::new(
                Kind::WalletConnectNotification,
                encrypt(wallet, client, Encryption::Nip04, &plain)?,
            )
            .tag(Tag::public_key(*client)),
            wallet,
        )?);
    }
    Ok(out)
}

/// The connection's info event (kind 13194, replaceable): the methods it may call, the
/// encryptions (NIP-44 first) and its notifications.
pub fn info_event(wallet: &Keys, methods: &[&str], notifications: &[&str]) -> Result<Event, Error> {
    EventBuilder::new(Kind::WalletConnectInfo, methods.join(" "))
        .tags([
            Tag::custom(TagKind::custom("encryption"), ["nip44_v2 nip04"]),
            Tag::custom(TagKind::custom("notifications"), [notifications.join(" ")]),
        ])
        .sign_with_keys(wallet)
        .map_err(|e| Error::Node(format!("cannot sign a NIP-47 info event: {e}")))
}

/// A transaction as NIP-47 shows it (`make_invoice`, `lookup_invoice`, `list_transactions`,
/// notifications). Amounts and fees in millisatoshis; times in unix seconds.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Transaction {
    /// `incoming` or `outgoing`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `pending`, `settled`, `expired` or `failed`.
    pub state: &'static str,
    /// The BOLT11 invoice.
    pub invoice: String,
    /// Its description.
    pub description: String,
    /// Its description hash, when it had one instead (not kept: always empty here).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description_hash: Option<String>,
    /// The preimage, once known (outgoing payments that succeeded).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preimage: Option<String>,
    /// The payment hash.
    pub payment_hash: String,
    /// Amount in msat (received, once paid; else asked).
    pub amount: u64,
    /// Fees paid in msat.
    pub fees_paid: u64,
    /// When it was made.
    pub created_at: i64,
    /// When it expires (invoices).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// When it was paid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settled_at: Option<i64>,
    /// The shop's metadata (invoices): with the order, external id and the id of ours.
    pub metadata: Value,
}

/// Unix seconds of an RFC 3339 time (0 when it cannot be read, which ours always can).
pub fn unix(time: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(time)
        .map(|t| t.timestamp())
        .unwrap_or(0)
}

/// Now, in Nostr's unix seconds.
pub fn now() -> u64 {
    Timestamp::now().as_secs()
}
