//! The core's one error type, and the closed set of error codes. Every variant has a stable
//! [`ErrorCode`] that the API sends to clients and the UI branches on; messages are for people and
//! may change.

/// Every error code the API can send, in one closed set: clients branch on these, so a code is
/// never renamed or reused. `docs/api.md` lists them all (a test checks it), and the OpenAPI
/// document gives them as the `code` enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 400: The body is not JSON, not an object, or empty.
    InvalidJson,
    /// 400: A field has the wrong type, is unknown, too long or badly formatted; `field` names it.
    InvalidField,
    /// 400: The query string cannot be read.
    InvalidQuery,
    /// 400: The body could not be read.
    InvalidBody,
    /// 401: No `Authorization: Bearer <key>` header.
    MissingApiKey,
    /// 401: The key is not shaped like a PayAiML key (`pk_<id>_<secret>`).
    MalformedApiKey,
    /// 401: No such key.
    InvalidApiKey,
    /// 401: The key was revoked.
    RevokedApiKey,
    /// 401: The key has expired.
    ExpiredApiKey,
    /// 403: The key lacks the permission this endpoint needs.
    MissingPermission,
    /// 403: A key may not make or manage a key with rights beyond its own.
    KeyScopeExceeded,
    /// 403: The app's own keys (the dashboard's admin key, the cashier's, a display's) are never
    /// revealed through another key, and only the admin key revokes the cashier's or a display's.
    KeyProtected,
    /// 403: The refund, with what the counter refunded today, would pass the owner's daily limit
    /// for cashier refunds.
    CashierRefundLimit,
    /// 403: The payment (with its fee cap) would exceed the key's daily budget.
    BudgetExceeded,
    /// 403: The `Host` header is not the bound address, `localhost`, `127.0.0.1` or an allowed name.
    HostNotAllowed,
    /// 403: A WebSocket from a foreign web origin.
    OriginNotAllowed,
    /// 403: The app is locked to the point of sale: unlock it with the owner's PIN first.
    CashierLocked,
    /// 403: The PIN is wrong.
    WrongPin,
    /// 403: Only the dashboard's admin key may do this (showing the recovery words).
    AdminOnly,
    /// 404: No object with that id, or no such endpoint.
    NotFound,
    /// 405: The endpoint exists but not with this method.
    MethodNotAllowed,
    /// 409: The invoice was already paid or is being paid.
    DuplicatePayment,
    /// 409: The `Idempotency-Key` was used for a different request, or that request is still running.
    IdempotencyConflict,
    /// 409: The first-run setup is not at the step this request belongs to (new words not asked
    /// for yet, a wallet already starting).
    SetupConflict,
    /// 409: The sandbox fixes this setting (it runs its own LSP).
    FixedInSandbox,
    /// 409: The catalog change conflicts with what uses it (a tax rate items are sold under).
    CatalogConflict,
    /// 409: The invoice is not paid, so it has no receipt (or refund) yet.
    InvoiceNotPaid,
    /// 422: The invoice's status does not allow marking it so (Greenfield `POST …/status`).
    InvoiceStateConflict,
    /// 409: The cashier lock is not in the state this needs (no PIN set, not locked, locked).
    CashierConflict,
    /// 409: The customer display's tip question changed (or closed) before this answer.
    DisplayConflict,
    /// 409: The locked counter has cashiers, and none is signed in to take this sale.
    SignInRequired,
    /// 409: Cash needs an open shift (its drawer); none is open.
    ShiftRequired,
    /// 409: The shift is not in the state this needs (one is open already, or it is closed).
    ShiftConflict,
    /// 409: No printer of that role is set up, or the print job is not waiting any more.
    PrintingConflict,
    /// 413: The body is over 64 KiB.
    PayloadTooLarge,
    /// 422: The amount is zero, negative, or beyond 21 million BTC (or beyond what the operation allows).
    InvalidAmount,
    /// 422: The expiry is 0 or over a year.
    InvalidExpiry,
    /// 422: The sandbox was asked to mine no blocks or too many.
    InvalidBlocks,
    /// 422: The invoice to pay has expired.
    InvoiceExpired,
    /// 422: The invoice is for another Bitcoin network.
    WrongNetwork,
    /// 422: The invoice has no amount: give `amount`.
    AmountRequired,
    /// 422: The invoice has a fixed amount: leave `amount` out.
    AmountNotAllowed,
    /// 422: The invoice was made by this node.
    SelfPayment,
    /// 422: Not enough outbound liquidity (or on-chain funds) for this.
    InsufficientBalance,
    /// 422: The node refused to send the payment at once (no route, …).
    PaymentFailed,
    /// 422: The webhook endpoint is disabled: enable it first.
    WebhookDisabled,
    /// 422: The node could not open the channel.
    ChannelOpenFailed,
    /// 422: The node could not close the channel.
    ChannelCloseFailed,
    /// 422: That is this node's own id.
    SelfChannel,
    /// 422: The key is revoked already.
    KeyRevoked,
    /// 422: The LSP asks more for opening a channel than the merchant accepts (its fee cap).
    LspFeeTooHigh,
    /// 422: A cart names an item that does not exist, is archived, or is priced in another unit.
    ItemUnavailable,
    /// 422: The refund, with what is refunded or being refunded already, is more than the invoice
    /// received.
    RefundExceedsReceived,
    /// 422: The catalog holds as many items (or tax rates) as it can.
    CatalogFull,
    /// 422: The till has as many cashiers (or printers) as it can.
    TillFull,
    /// 422: The node cannot make an offer now: no channel peer is connected to reach it through.
    OfferUnavailable,
    /// 422: The pairing code is unknown, used or expired.
    InvalidPairingCode,
    /// 426: `/v1/events/ws` needs a WebSocket upgrade.
    WebsocketRequired,
    /// 429: Too many requests with unknown keys from this client; `Retry-After` says when to retry.
    RateLimited,
    /// 503: The node is starting, or its chain source is unreachable (the message says which).
    NodeNotReady,
    /// 503: The LSP needed for this invoice's channel did not answer, or refused.
    LspUnavailable,
    /// 503: This app has no wallet running yet: finish the first-run setup.
    SetupRequired,
    /// 503: No exchange rate is fresh enough to price in a currency (no invoice is made).
    RateUnavailable,
    /// 503: The backup target did not answer, or holds nothing these recovery words open.
    BackupUnavailable,
    /// 500: The Lightning node failed; the message says how, for the merchant.
    NodeError,
    /// 500: The regtest sandbox failed (bitcoind, the customer node).
    SandboxError,
    /// 500: The database failed (details in the server log only).
    DatabaseError,
    /// 500: The OS keyring or secrets file failed (details in the server log only).
    SecretStoreError,
    /// 500: A file operation failed (details in the server log only).
    IoError,
    /// 500: The server's configuration is unusable (details in the server log only).
    InvalidConfig,
    /// 500: The QR code could not be drawn (details in the server log only).
    QrError,
    /// 500: Anything else on our side (details in the server log only).
    InternalError,
}

impl ErrorCode {
    /// Every code, in the order the documentation lists them.
    pub const ALL: [ErrorCode; 72] = [
        ErrorCode::InvalidJson,
        ErrorCode::InvalidField,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidBody,
        ErrorCode::MissingApiKey,
        ErrorCode::MalformedApiKey,
        ErrorCode::InvalidApiKey,
        ErrorCode::RevokedApiKey,
        ErrorCode::ExpiredApiKey,
        ErrorCode::MissingPermission,
        ErrorCode::KeyScopeExceeded,
        ErrorCode::KeyProtected,
        ErrorCode::CashierRefundLimit,
        ErrorCode::BudgetExceeded,
        ErrorCode::HostNotAllowed,
        ErrorCode::OriginNotAllowed,
        ErrorCode::CashierLocked,
        ErrorCode::WrongPin,
        ErrorCode::AdminOnly,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::DuplicatePayment,
        ErrorCode::IdempotencyConflict,
        ErrorCode::SetupConflict,
        ErrorCode::FixedInSandbox,
        ErrorCode::CatalogConflict,
        ErrorCode::InvoiceNotPaid,
        ErrorCode::InvoiceStateConflict,
        ErrorCode::CashierConflict,
        ErrorCode::DisplayConflict,
        ErrorCode::SignInRequired,
        ErrorCode::ShiftRequired,
        ErrorCode::ShiftConflict,
        ErrorCode::PrintingConflict,
        ErrorCode::PayloadTooLarge,
        ErrorCode::InvalidAmount,
        ErrorCode::InvalidExpiry,
        ErrorCode::InvalidBlocks,
        ErrorCode::InvoiceExpired,
        ErrorCode::WrongNetwork,
        ErrorCode::AmountRequired,
        ErrorCode::AmountNotAllowed,
        ErrorCode::SelfPayment,
        ErrorCode::InsufficientBalance,
        ErrorCode::PaymentFailed,
        ErrorCode::WebhookDisabled,
        ErrorCode::ChannelOpenFailed,
        ErrorCode::ChannelCloseFailed,
        ErrorCode::SelfChannel,
        ErrorCode::KeyRevoked,
        ErrorCode::LspFeeTooHigh,
        ErrorCode::ItemUnavailable,
        ErrorCode::RefundExceedsReceived,
        ErrorCode::CatalogFull,
        ErrorCode::TillFull,
        ErrorCode::OfferUnavailable,
        ErrorCode::InvalidPairingCode,
        ErrorCode::WebsocketRequired,
        ErrorCode::RateLimited,
        ErrorCode::NodeNotReady,
        ErrorCode::LspUnavailable,
        ErrorCode::SetupRequired,
        ErrorCode::RateUnavailable,
        ErrorCode::BackupUnavailable,
        ErrorCode::NodeError,
        ErrorCode::SandboxError,
        ErrorCode::DatabaseError,
        ErrorCode::SecretStoreError,
        ErrorCode::IoError,
        ErrorCode::InvalidConfig,
        ErrorCode::QrError,
        ErrorCode::InternalError,
    ];

    /// The snake_case code.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidField => "invalid_field",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::MissingApiKey => "missing_api_key",
            ErrorCode::MalformedApiKey => "malformed_api_key",
            ErrorCode::InvalidApiKey => "invalid_api_key",
            ErrorCode::RevokedApiKey => "revoked_api_key",
            ErrorCode::ExpiredApiKey => "expired_api_key",
            ErrorCode::MissingPermission => "missing_permission",
            ErrorCode::KeyScopeExceeded => "key_scope_exceeded",
            ErrorCode::KeyProtected => "key_protected",
            ErrorCode::CashierRefundLimit => "cashier_refund_limit",
            ErrorCode::BudgetExceeded => "budget_exceeded",
            ErrorCode::HostNotAllowed => "host_not_allowed",
            ErrorCode::OriginNotAllowed => "origin_not_allowed",
            ErrorCode::AdminOnly => "admin_only",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::DuplicatePayment => "duplicate_payment",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::SetupConflict => "setup_conflict",
            ErrorCode::FixedInSandbox => "fixed_in_sandbox",
            ErrorCode::CatalogConflict => "catalog_conflict",
            ErrorCode::InvoiceNotPaid => "invoice_not_paid",
            ErrorCode::InvoiceStateConflict => "invoice_state_conflict",
            ErrorCode::CashierConflict => "cashier_conflict",
            ErrorCode::DisplayConflict => "display_conflict",
            ErrorCode::SignInRequired => "sign_in_required",
            ErrorCode::ShiftRequired => "shift_required",
            ErrorCode::ShiftConflict => "shift_conflict",
            ErrorCode::PrintingConflict => "printing_conflict",
            ErrorCode::CashierLocked => "cashier_locked",
            ErrorCode::WrongPin => "wrong_pin",
            ErrorCode::PayloadTooLarge => "payload_too_large",
            ErrorCode::InvalidAmount => "invalid_amount",
            ErrorCode::InvalidExpiry => "invalid_expiry",
            ErrorCode::InvalidBlocks => "invalid_blocks",
            ErrorCode::InvoiceExpired => "invoice_expired",
            ErrorCode::WrongNetwork => "wrong_network",
            ErrorCode::AmountRequired => "amount_required",
            ErrorCode::AmountNotAllowed => "amount_not_allowed",
            ErrorCode::SelfPayment => "self_payment",
            ErrorCode::InsufficientBalance => "insufficient_balance",
            ErrorCode::PaymentFailed => "payment_failed",
            ErrorCode::WebhookDisabled => "webhook_disabled",
            ErrorCode::ChannelOpenFailed => "channel_open_failed",
            ErrorCode::ChannelCloseFailed => "channel_close_failed",
            ErrorCode::SelfChannel => "self_channel",
            ErrorCode::KeyRevoked => "key_revoked",
            ErrorCode::LspFeeTooHigh => "lsp_fee_too_high",
            ErrorCode::ItemUnavailable => "item_unavailable",
            ErrorCode::RefundExceedsReceived => "refund_exceeds_received",
            ErrorCode::CatalogFull => "catalog_full",
            ErrorCode::TillFull => "till_full",
            ErrorCode::OfferUnavailable => "offer_unavailable",
            ErrorCode::InvalidPairingCode => "invalid_pairing_code",
            ErrorCode::WebsocketRequired => "websocket_required",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NodeNotReady => "node_not_ready",
            ErrorCode::LspUnavailable => "lsp_unavailable",
            ErrorCode::SetupRequired => "setup_required",
            ErrorCode::RateUnavailable => "rate_unavailable",
            ErrorCode::BackupUnavailable => "backup_unavailable",
            ErrorCode::NodeError => "node_error",
            ErrorCode::SandboxError => "sandbox_error",
            ErrorCode::DatabaseError => "database_error",
            ErrorCode::SecretStoreError => "secret_store_error",
            ErrorCode::IoError => "io_error",
            ErrorCode::InvalidConfig => "invalid_config",
            ErrorCode::QrError => "qr_error",
            ErrorCode::InternalError => "internal_error",
        }
    }

    /// The HTTP status every error with this code is sent with.
    pub fn http_status(self) -> u16 {
        match self {
            ErrorCode::InvalidJson
            | ErrorCode::InvalidField
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidBody => 400,
            ErrorCode::MissingApiKey
            | ErrorCode::MalformedApiKey
            | ErrorCode::InvalidApiKey
            | ErrorCode::RevokedApiKey
            | ErrorCode::ExpiredApiKey => 401,
            ErrorCode::MissingPermission
            | ErrorCode::KeyScopeExceeded
            | ErrorCode::KeyProtected
            | ErrorCode::CashierRefundLimit
            | ErrorCode::BudgetExceeded
            | ErrorCode::HostNotAllowed
            | ErrorCode::OriginNotAllowed
            | ErrorCode::AdminOnly
            | ErrorCode::CashierLocked
            | ErrorCode::WrongPin => 403,
            ErrorCode::NotFound => 404,
            ErrorCode::MethodNotAllowed => 405,
            ErrorCode::DuplicatePayment
            | ErrorCode::IdempotencyConflict
            | ErrorCode::SetupConflict
            | ErrorCode::FixedInSandbox
            | ErrorCode::CatalogConflict
            | ErrorCode::InvoiceNotPaid
            | ErrorCode::CashierConflict
            | ErrorCode::DisplayConflict
            | ErrorCode::SignInRequired
            | ErrorCode::ShiftRequired
            | ErrorCode::ShiftConflict
            | ErrorCode::PrintingConflict => 409,
            ErrorCode::PayloadTooLarge => 413,
            ErrorCode::InvalidAmount
            | ErrorCode::InvoiceStateConflict
            | ErrorCode::InvalidExpiry
            | ErrorCode::InvalidBlocks
            | ErrorCode::InvoiceExpired
            | ErrorCode::WrongNetwork
            | ErrorCode::AmountRequired
            | ErrorCode::AmountNotAllowed
            | ErrorCode::SelfPayment
            | ErrorCode::InsufficientBalance
            | ErrorCode::PaymentFailed
            | ErrorCode::WebhookDisabled
            | ErrorCode::ChannelOpenFailed
            | ErrorCode::ChannelCloseFailed
            | ErrorCode::SelfChannel
            | ErrorCode::KeyRevoked
            | ErrorCode::LspFeeTooHigh
            | ErrorCode::ItemUnavailable
            | ErrorCode::RefundExceedsReceived
            | ErrorCode::CatalogFull
            | ErrorCode::TillFull
            | ErrorCode::OfferUnavailable
            | ErrorCode::InvalidPairingCode => 422,
            ErrorCode::WebsocketRequired => 426,
            ErrorCode::RateLimited => 429,
            ErrorCode::NodeNotReady
            | ErrorCode::LspUnavailable
            | ErrorCode::SetupRequired
            | ErrorCode::RateUnavailable
            | ErrorCode::BackupUnavailable => 503,
            ErrorCode::NodeError
            | ErrorCode::SandboxError
            | ErrorCode::DatabaseError
            | ErrorCode::SecretStoreError
            | ErrorCode::IoError
            | ErrorCode::InvalidConfig
            | ErrorCode::QrError
            | ErrorCode::InternalError => 500,
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Result alias for the core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A field of a request is invalid (wrong range, too long, unparsable).
    #[error("{message}")]
    InvalidField {
        /// The field's name as the API spells it.
        field: &'static str,
        /// What is wrong, said so that a person can fix it.
        message: String,
    },
    /// Valid input that cannot be acted upon (an expired invoice, an invoice for another network).
    #[error("{message}")]
    Unprocessable {
        /// Stable code, e.g. `invoice_expired`.
        code: ErrorCode,
        /// The field it concerns, if any.
        field: Option<&'static str>,
        /// What is wrong.
        message: String,
    },
    /// The request conflicts with the state of what it changes (a tax rate still in use).
    #[error("{message}")]
    Conflict {
        /// Stable code, e.g. `catalog_conflict`.
        code: ErrorCode,
        /// What is in the way, and what to do.
        message: String,
    },
    /// The caller's key may not do this, although it may call the endpoint (a key managing a key
    /// beyond its own scope).
    #[error("{message}")]
    Forbidden {
        /// Stable code, e.g. `key_scope_exceeded`.
        code: ErrorCode,
        /// The field it concerns, if any.
        field: Option<&'static str>,
        /// What is not allowed, and why.
        message: String,
    },
    /// No object with that id.
    #[error("no {kind} with id '{id}'")]
    NotFound {
        /// The kind of object (`invoice`, `payment`, `key`).
        kind: &'static str,
        /// The id that was asked for.
        id: String,
    },
    /// The invoice is already being paid or was paid.
    #[error("this invoice was already paid or is being paid (payment {payment_id})")]
    DuplicatePayment {
        /// The earlier payment's id.
        payment_id: String,
    },
    /// An `Idempotency-Key` was reused with a different request.
    #[error("{0}")]
    IdempotencyConflict(String),
    /// Sending this payment, with the most it may cost in routing fees, would exceed the key's
    /// daily budget.
    #[error("this payment of {amount} sat (plus up to {max_fee} sat in routing fees) would exceed the key's daily budget of {budget} sat ({spent} sat already spent today, fees and payments in flight included)")]
    BudgetExceeded {
        /// The key's daily budget in sats.
        budget: u64,
        /// What the key has spent today, in sats (rounded up).
        spent: u64,
        /// The amount asked for, in sats (rounded up).
        amount: u64,
        /// The payment's routing fee cap, in sats (rounded up).
        max_fee: u64,
    },
    /// Not enough outbound liquidity for the payment.
    #[error("{0}")]
    InsufficientBalance(String),
    /// A service the request needs is not answering now (an LSP); retrying may work.
    #[error("{message}")]
    Unavailable {
        /// Stable code, e.g. `lsp_unavailable`.
        code: ErrorCode,
        /// What is not answering, and what to do.
        message: String,
    },
    /// The Lightning node is not running (still starting, or its chain source is unreachable).
    #[error("the Lightning node is not ready: {0}")]
    NodeNotReady(String),
    /// The Lightning node refused or failed an operation.
    #[error("the Lightning node failed: {0}")]
    Node(String),
    /// The secret store (OS keyring or secrets file) failed.
    #[error("{0}")]
    Secrets(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A database migration failed.
    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A file or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The configuration is unusable.
    #[error("{0}")]
    Config(String),
    /// The regtest sandbox failed (bitcoind, the customer node).
    #[error("sandbox: {0}")]
    Sandbox(String),
    /// The backup target failed, or what it holds cannot be used (the message says which).
    #[error("backup: {0}")]
    Backup(String),
}

impl Error {
    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidField { .. } => ErrorCode::InvalidField,
            Error::Unprocessable { code, .. }
            | Error::Forbidden { code, .. }
            | Error::Unavailable { code, .. }
            | Error::Conflict { code, .. } => *code,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::DuplicatePayment { .. } => ErrorCode::DuplicatePayment,
            Error::IdempotencyConflict(_) => ErrorCode::IdempotencyConflict,
            Error::BudgetExceeded { .. } => ErrorCode::BudgetExceeded,
            Error::InsufficientBalance(_) => ErrorCode::InsufficientBalance,
            Error::NodeNotReady(_) => ErrorCode::NodeNotReady,
            Error::Node(_) => ErrorCode::NodeError,
            Error::Secrets(_) => ErrorCode::SecretStoreError,
            Error::Database(_) | Error::Migration(_) => ErrorCode::DatabaseError,
            Error::Io { .. } => ErrorCode::IoError,
            Error::Config(_) => ErrorCode::InvalidConfig,
            Error::Sandbox(_) => ErrorCode::SandboxError,
            Error::Backup(_) => ErrorCode::BackupUnavailable,
        }
    }

    /// The request field this error is about, if any.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::InvalidField { field, .. } => Some(field),
            Error::Unprocessable { field, .. } | Error::Forbidden { field, .. } => *field,
            _ => None,
        }
    }

    pub(crate) fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Error::InvalidField {
            field,
            message: message.into(),
        }
    }

    /// A query parameter that cannot be read (`400 invalid_query`).
    pub(crate) fn invalid_query(field: &'static str, message: impl Into<String>) -> Self {
        Error::Unprocessable {
            code: ErrorCode::InvalidQuery,
            field: Some(field),
            message: message.into(),
        }
    }

    pub(crate) fn unprocessable(
        code: ErrorCode,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Unprocessable {
            code,
            field,
            message: message.into(),
        }
    }

    pub(crate) fn conflict(code: ErrorCode, message: impl Into<String>) -> Self {
        Error::Conflict {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn forbidden(
        code: ErrorCode,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Forbidden {
            code,
            field,
            message: message.into(),
        }
    }

    /// `403 key_protected`: a key no other key may reveal (`message` says which and what to
    /// use instead).
    pub fn forbidden_key(message: impl Into<String>) -> Self {
        Error::forbidden(ErrorCode::KeyProtected, None, message)
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
