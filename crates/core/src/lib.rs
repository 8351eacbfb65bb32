//! PayAiML Merchant core: the embedded Lightning node, the SQLite store, API keys, the secret
//! store, invoices, payments, the event log and its webhooks, and the regtest sandbox.
//!
//! This crate has no transport: the HTTP API (`payaiml-api`), the headless daemon (`payaimld`)
//! and the desktop shell all drive it through [`App`].
#![deny(missing_docs)]

mod admin_notice;
mod app;
pub mod channels;
pub mod config;
mod error;
pub mod events;
mod expiry;
mod handler;
pub mod idempotency;
pub mod invoices;
pub mod keys;
pub mod lock;
pub mod node;
mod notifications;
pub mod payments;
mod receive;
mod resume;
pub mod sandbox;
pub mod secrets;
mod send;
pub mod settings;
pub mod store;
pub mod util;
pub mod wallet;
pub mod webhooks;

pub use admin_notice::admin_key_notice;
pub use app::App;
pub use config::{ChainSource, Config, Network, SecretsBackend};
pub use error::{Error, Result};
/// The node library, for front doors and benchmarks that need its types (one version for all).
pub use ldk_node;
pub use send::{invoice_description, parse_invoice};
