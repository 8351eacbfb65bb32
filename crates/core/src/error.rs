//! The core's one error type. Every variant has a stable `code()` that the API sends to clients
//! and the UI branches on; messages are for people and may change.

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
        code: &'static str,
        /// The field it concerns, if any.
        field: Option<&'static str>,
        /// What is wrong.
        message: String,
    },
    /// The caller's key may not do this, although it may call the endpoint (a key managing a key
    /// beyond its own scope).
    #[error("{message}")]
    Forbidden {
        /// Stable code, e.g. `key_scope_exceeded`.
        code: &'static str,
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
}

impl Error {
    /// The stable, snake_case code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidField { .. } => "invalid_field",
            Error::Unprocessable { code, .. } | Error::Forbidden { code, .. } => code,
            Error::NotFound { .. } => "not_found",
            Error::DuplicatePayment { .. } => "duplicate_payment",
            Error::IdempotencyConflict(_) => "idempotency_conflict",
            Error::BudgetExceeded { .. } => "budget_exceeded",
            Error::InsufficientBalance(_) => "insufficient_balance",
            Error::NodeNotReady(_) => "node_not_ready",
            Error::Node(_) => "node_error",
            Error::Secrets(_) => "secret_store_error",
            Error::Database(_) | Error::Migration(_) => "database_error",
            Error::Io { .. } => "io_error",
            Error::Config(_) => "invalid_config",
            Error::Sandbox(_) => "sandbox_error",
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

    pub(crate) fn unprocessable(
        code: &'static str,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Unprocessable {
            code,
            field,
            message: message.into(),
        }
    }

    pub(crate) fn forbidden(
        code: &'static str,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Error::Forbidden {
            code,
            field,
            message: message.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}
