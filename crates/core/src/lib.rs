//! PayAiML Merchant core: the embedded Lightning node, the SQLite store, API keys, the secret
//! store, invoices, payments, the event log and its webhooks, and the regtest sandbox.
//!
//! This crate has no transport: the HTTP API (`payaiml-api`), the headless daemon (`payaimld`)
//! and the desktop shell all drive it through [`App`] and its domain handles. The modules form
//! layers, each using only those below it (`scripts/check-module-cycles.py` checks that no two
//! modules depend on each other, directly or not):
//!
//! - `sandbox` (launches an `App` beside its own bitcoind and customer node), `moving` (export and
//!   import of a whole wallet)
//! - `app` (opens, starts, stops; hands out the domain handles)
//! - `node_events` (the node-event task: node → SQLite → live events)
//! - domains: `invoices`, `payments`, `keys`, `webhooks`, `settings`, `idempotency`,
//!   `notifications`
//! - `events` (the durable log and its outbox), `node` (the LDK node, balance, channels)
//! - `store`, `secrets`, `seed`, `config`, `profile`, `rates`, `lock`, `error`, `util`
#![deny(missing_docs)]

mod admin_notice;
mod app;
pub mod backup;
pub mod btcpay;
pub mod cashier;
pub mod catalog;
pub mod config;
pub mod display;
mod error;
pub mod events;
pub mod greenfield;
pub mod idempotency;
pub mod invoices;
pub mod keys;
pub mod lock;
pub mod moving;
pub mod node;
mod node_events;
mod node_prune;
mod notifications;
pub mod nwc;
pub mod offers;
pub mod payments;
mod print_queue;
pub mod profile;
pub mod rates;
pub mod receipts;
pub mod reports;
pub mod sandbox;
pub mod secrets;
pub mod seed;
pub mod settings;
mod store;
pub mod till;
pub mod util;
mod wallet_secrets;
pub mod webhooks;

pub use admin_notice::admin_key_notice;
pub use app::App;
pub use config::{ChainSource, Config, Network, SecretsBackend};
pub use error::{Error, ErrorCode, Result};
/// The node library, for front doors and benchmarks that need its types (one version for all).
pub use ldk_node;
pub use payments::{invoice_description, parse_invoice};
pub use store::Page;
