//! End-to-end suites against the real `payaimld` binary: a real regtest bitcoind, real ldk-node
//! nodes, and the real Secret Service (`make test` runs them inside a private D-Bus session with
//! gnome-keyring).

mod common;

mod auth;
mod backup;
mod bad_input;
mod cashier;
mod catalog;
mod channels;
mod chaos;
mod display;
mod first_view;
mod greenfield;
mod history;
mod instance;
mod invoices_fixture;
mod journey;
mod keyring;
mod lsp;
mod moving;
mod networks;
mod notifications;
mod nwc;
mod offers;
mod payments;
mod rates;
mod receiver;
mod refunds;
mod setup;
mod stream;
mod till;
mod unified;
mod vss_server;
mod webhooks;
