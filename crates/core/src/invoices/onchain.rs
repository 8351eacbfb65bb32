//! Invoices paid on-chain (the unified QR). ldk-node records an incoming on-chain payment with
//! its transaction and amount but not the address it paid, so while an invoice waits with an
//! address, each confirmed incoming transaction not read yet is fetched from the chain source
//! and its outputs are matched to the invoices' addresses (each address is fresh and belongs to
//! one invoice). Outputs add up; once they reach the amount the invoice is paid, with a
//! `payment.received` event (`route: "onchain"`, `txid`) in the same transaction.
//!
//! A payment counts at one confirmation: ldk-node reports it `Confirmed` once it is in a block.
//! An unpaid invoice's address is watched until 7 days after it expires.
//! Reading a transaction and recording it are idempotent (`onchain_seen`), so a crash between
//! them only means the transaction is read again.
//!
//! A transaction the chain source cannot give (a pruned bitcoind, an Esplora hiccup) is logged
//! and tried again later, waiting longer after each failure ([`Retries`]), while the others are
//! read: one unreadable transaction never holds back a later customer's payment. Incoming
//! transactions in blocks a day older than the first invoice with an address cannot pay one (its
//! addresses did not exist yet): they are marked read without being fetched.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ldk_node::bitcoin::{Address, BlockHash, Network, Transaction, Txid};
use ldk_node::payment::{ConfirmationStatus, PaymentDirection, PaymentKind};
use ldk_node::Node;
use sqlx::SqliteConnection;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::db::{self, COLUMNS};
use super::{received_payload, Invoice, InvoiceStatus};
use crate::error::Result;
use crate::events::{self, EventKind, EventRecord};
use crate::node::chain_lookup::ChainLookup;
use crate::store::Store;
use crate::util::now_ms;

/// How often incoming transactions are looked at while an invoice waits for one.
const EVERY: Duration = Duration::from_secs(3);
/// The longest wait before a transaction that could not be read is tried again.
const LONGEST_RETRY: Duration = Duration::from_secs(10 * 60);
/// A transaction in a block whose timestamp is this long before the first invoice with an
/// address was made cannot pay it: a block's timestamp may trail the real time by about an hour
/// (it only has to pass the median of the 11 before it) and the shop's clock may be off; a day
/// covers both with room to spare.
const BLOCK_TIME_SLACK_MS: i64 = 24 * 3600 * 1000;

/// Transactions that could not be read, with how often in a row and when to try again.
#[derive(Debug, Default)]
pub(crate) struct Retries {
    failed: HashMap<Txid, (u32, tokio::time::Instant)>,
}

impl Retries {
    fn due(&self, txid: &Txid, now: tokio::time::Instant) -> bool {
        self.failed.get(txid).is_none_or(|(_, at)| *at <= now)
    }

    /// Counts a failure and returns the wait before the next try: 3 s doubling up to 10 min.
    fn failed(&mut self, txid: Txid, now: tokio::time::Instant) -> (u32, Duration) {
        let count = self.failed.get(&txid).map_or(0, |(n, _)| *n) + 1;
        let wait = EVERY
            .saturating_mul(1 << (count - 1).min(16))
            .min(LONGEST_RETRY);
        self.failed.insert(txid, (count, now + wait));
        (count, wait)
    }
}

/// A confirmed incoming transaction as the node lists it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Incoming {
    txid: Txid,
    block: BlockHash,
    /// Its block's timestamp (unix s; ldk-node's `ConfirmationStatus::Confirmed::timestamp`,
    /// the confirmation time of its anchor in the wallet).
    block_time: u64,
}

pub(crate) async fn run(
    node: Arc<Node>,
    store: Store,
    lookup: ChainLookup,
    network: Network,
    events: broadcast::Sender<EventRecord>,
    stop: CancellationToken,
) {
    let mut retries = Retries::default();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.cancelled() => return,
        }
        match scan(&node, &store, &lookup, network, &mut retries).await {
            Ok(records) => {
                for record in records {
                    let _ = events.send(record);
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading on-chain payments failed; retrying"),
        }
    }
}

/// Reads the confirmed incoming transactions not read yet, if an invoice waits for one.
async fn scan(
    node: &Node,
    store: &Store,
    lookup: &ChainLookup,
    network: Network,
    retries: &mut Retries,
) -> Result<Vec<EventRecord>> {
    if !db::onchain_waiting(store, now_ms()).await? {
        return Ok(Vec::new());
    }
    let confirmed: Vec<Incoming> = node
        .list_payments_with_filter(|p| p.direction == PaymentDirection::Inbound)
        .into_iter()
        .filter_map(|p| match p.kind {
            PaymentKind::Onchain {
                txid,
                status:
                    ConfirmationStatus::Confirmed {
                        block_hash,
                        timestamp,
                        ..
                    },
            } => Some(Incoming {
                txid,
                block: block_hash,
                block_time: timestamp,
            }),
            _ => None,
        })
        .collect();
    read_new(
        store,
        confirmed,
        network,
        retries,
        |txid, block| async move { lookup.transaction(&txid, &block).await },
    )
    .await
}

/// Reads each of `confirmed` not read yet with `fetch` and records it; see the module doc for
/// what a failure or an old transaction does.
pub(crate) async fn read_new<F, Fut>(
    store: &Store,
    confirmed: Vec<Incoming>,
    network: Network,
    retries: &mut Retries,
    fetch: F,
) -> Result<Vec<EventRecord>>
where
    F: Fn(Txid, BlockHash) -> Fut,
    Fut: Future<Output = Result<Transaction>>,
{
    let first_address_at = db::first_onchain_invoice_at(store).await?;
    let mut out = Vec::new();
    for incoming in confirmed {
        let txid = incoming.txid.to_string();
        if db::onchain_seen(store, &txid).await? {
            retries.failed.remove(&incoming.txid);
            continue;
        }
        let block_ms = i64::try_from(incoming.block_time)
            .unwrap_or(i64::MAX)
            .saturating_mul(1000);
        if first_address_at.is_some_and(|first| block_ms < first - BLOCK_TIME_SLACK_MS) {
            db::mark_onchain_seen(store, &txid, now_ms()).await?;
            continue;
        }
        let now = tokio::time::Instant::now();
        if !retries.due(&incoming.txid, now) {
            continue;
        }
        match fetch(incoming.txid, incoming.block).await {
            Ok(tx) => {
                retries.failed.remove(&incoming.txid);
                out.extend(record(store, &tx, network, now_ms()).await?);
            }
            Err(e) => {
                let (count, wait) = retries.failed(incoming.txid, now);
                tracing::warn!(
                    %txid, error = %e, failures = count, retry_in_s = wait.as_secs(),
                    "cannot read an incoming transaction from the chain source; the others are read meanwhile"
                );
            }
        }
    }
    Ok(out)
}

/// Records the outputs of the incoming transaction `tx` to invoices' addresses, once. Returns
/// the events of the invoices it completed.
pub(crate) async fn record(
    store: &Store,
    tx: &Transaction,
    network: Network,
    at: i64,
) -> Result<Vec<EventRecord>> {
    let txid = tx.compute_txid().to_string();
    let mut write = store.begin_write().await?;
    let first = sqlx::query(
        "INSERT INTO onchain_seen (txid, seen_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(&txid)
    .bind(at)
    .execute(&mut *write)
    .await?
    .rows_affected()
        == 1;
    let mut out = Vec::new();
    if first {
        for output in &tx.output {
            let Ok(address) = Address::from_script(&output.script_pubkey, network) else {
                continue;
            };
            let sats = output.value.to_sat();
            if let Some(invoice) =
                add_output(&mut write, &address.to_string(), sats, &txid, at).await?
            {
                if invoice.status == InvoiceStatus::Paid {
                    let msat = invoice.amount_received_msat.unwrap_or(sats * 1000);
                    let payload = received_payload(
                        Some(&invoice),
                        &invoice.payment_hash,
                        msat,
                        None,
                        None,
                        None,
                        Some(&txid),
                    );
                    let key = format!("payment.received:{}:onchain", invoice.payment_hash);
                    out.extend(
                        events::append(&mut write, EventKind::PaymentReceived, &key, payload)
                            .await?,
                    );
                }
            }
        }
    }
    write.commit().await?;
    Ok(out)
}

/// Adds an output of `sats` to the invoice at `address` (none: `None`), marking it paid with
/// what the address received once that reaches its amount; returns it if this output paid it.
/// An output to an invoice paid already (the customer paid twice) only adds to what the address
/// received, for the merchant to see and refund. (SQLite's SET reads the row as it was, so every
/// expression sees the same old total.)
async fn add_output(
    tx: &mut SqliteConnection,
    address: &str,
    sats: u64,
    txid: &str,
    at: i64,
) -> Result<Option<Invoice>> {
    let row = sqlx::query_as::<_, db::InvoiceRow>(&format!(
        "UPDATE invoices SET onchain_received_sat = onchain_received_sat + ?1,
             status = CASE WHEN (onchain_received_sat + ?1) * 1000 >= amount_msat
                 THEN 'paid' ELSE status END,
             paid_at = CASE WHEN (onchain_received_sat + ?1) * 1000 >= amount_msat
                 THEN ?2 ELSE paid_at END,
             amount_received_msat = CASE WHEN (onchain_received_sat + ?1) * 1000 >= amount_msat
                 THEN (onchain_received_sat + ?1) * 1000 ELSE amount_received_msat END,
             onchain_txid = CASE WHEN (onchain_received_sat + ?1) * 1000 >= amount_msat
                 THEN ?3 ELSE onchain_txid END
         WHERE onchain_address = ?4 AND status != 'paid' RETURNING {COLUMNS}"
    ))
    .bind(sats as i64)
    .bind(at)
    .bind(txid)
    .bind(address)
    .fetch_optional(&mut *tx)
    .await?;
    if row.is_none() {
        let again = sqlx::query(
            "UPDATE invoices SET onchain_received_sat = onchain_received_sat + ?
             WHERE onchain_address = ? AND status = 'paid'",
        )
        .bind(sats as i64)
        .bind(address)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if again > 0 {
            tracing::warn!(
                %address, %txid, sats,
                "an on-chain payment arrived for an invoice paid already: the customer paid twice"
            );
        }
    }
    Ok(row.map(|r| r.into_invoice(at)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::temp_store;
    use ldk_node::bitcoin::absolute::LockTime;
    use ldk_node::bitcoin::hashes::Hash;
    use ldk_node::bitcoin::transaction::Version;
    use ldk_node::bitcoin::{Amount, ScriptBuf, TxOut};

    fn paying(address: &Address, sats: u64, nonce: u32) -> Transaction {
        Transaction {
            version: Version::TWO,
            lock_time: LockTime::from_consensus(nonce),
            input: Vec::new(),
            output: vec![
                TxOut {
                    value: Amount::from_sat(777),
                    script_pubkey: ScriptBuf::new_op_return([1u8; 4]),
                },
                TxOut {
                    value: Amount::from_sat(sats),
                    script_pubkey: address.script_pubkey(),
                },
            ],
        }
    }

    /// Outputs add up until they reach the amount; the one that completes it pays the invoice
    /// with one event; a transaction read again counts nothing.
    #[tokio::test]
    async fn outputs_add_up_to_a_payment_once() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let address = Address::p2wsh(&ScriptBuf::new(), Network::Regtest);
        sqlx::query(
            "INSERT INTO invoices (id, payment_hash, amount_msat, description, payment_request,
                 expiry, expires_at, created_at, status, onchain_address)
             VALUES ('inv_c', 'aa', 50000000, 'Bike', 'lnbcrt1', 60, 0, 0, 'pending', ?)",
        )
        .bind(address.to_string())
        .execute(store.pool())
        .await?;
        assert!(
            db::onchain_waiting(&store, 0).await?,
            "watched after it expires"
        );
        assert!(
            !db::onchain_waiting(&store, db::ONCHAIN_WATCH_AFTER_EXPIRY_MS + 1).await?,
            "but not forever"
        );
        let half = paying(&address, 20_000, 1);
        assert!(record(&store, &half, Network::Regtest, 10)
            .await?
            .is_empty());
        let invoice = db::get(&store, "inv_c").await?;
        assert_eq!(invoice.status, InvoiceStatus::Expired);
        assert_eq!(invoice.onchain.as_ref().map(|o| o.received), Some(20_000));
        assert!(
            record(&store, &half, Network::Regtest, 11)
                .await?
                .is_empty(),
            "read twice"
        );

        let rest = paying(&address, 30_000, 2);
        let events = record(&store, &rest, Network::Regtest, 12).await?;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].payload["route"], "onchain");
        assert_eq!(events[0].payload["txid"], rest.compute_txid().to_string());
        assert_eq!(events[0].payload["amount"], 50_000);
        let paid = db::get(&store, "inv_c").await?;
        assert_eq!(paid.status, InvoiceStatus::Paid);
        assert_eq!(paid.amount_received, Some(50_000));
        let onchain = paid.onchain.expect("onchain");
        assert_eq!(onchain.txid, Some(rest.compute_txid().to_string()));
        assert!(onchain.uri.starts_with(&format!(
            "bitcoin:{address}?amount=0.0005&message=Bike&lightning=lnbcrt1"
        )));
        assert!(!db::onchain_waiting(&store, 0).await?);

        // Paid twice: no second event, but the address shows what came, to refund.
        let twice = paying(&address, 50_000, 3);
        assert!(record(&store, &twice, Network::Regtest, 13)
            .await?
            .is_empty());
        let after = db::get(&store, "inv_c").await?;
        assert_eq!(after.onchain.map(|o| o.received), Some(100_000));
        assert_eq!(after.amount_received, Some(50_000));
        Ok(())
    }

    /// One transaction the chain source cannot give does not hold back the others: it waits
    /// longer after each failure, and is read once it can be; a transaction confirmed long
    /// before the first invoice with an address is marked read without being fetched.
    #[tokio::test]
    async fn an_unreadable_transaction_holds_back_no_other() -> Result<()> {
        let (_dir, store) = temp_store().await;
        let address = Address::p2wsh(&ScriptBuf::new(), Network::Regtest);
        let made_at: i64 = 1_800_000_000_000;
        sqlx::query(
            "INSERT INTO invoices (id, payment_hash, amount_msat, description, payment_request,
                 expiry, expires_at, created_at, status, onchain_address)
             VALUES ('inv_d', 'ab', 50000000, 'Bike', 'lnbcrt1', 60, ?, ?, 'pending', ?)",
        )
        .bind(made_at + 3_600_000)
        .bind(made_at)
        .bind(address.to_string())
        .execute(store.pool())
        .await?;
        let pays = paying(&address, 50_000, 1);
        let block = BlockHash::from_byte_array([7; 32]);
        let at = |secs: i64| u64::try_from(secs).unwrap_or_default();
        let pruned = Incoming {
            txid: paying(&address, 1, 99).compute_txid(),
            block,
            block_time: at(made_at / 1000 + 60),
        };
        let old = Incoming {
            txid: paying(&address, 2, 98).compute_txid(),
            block,
            block_time: at(made_at / 1000 - 2 * 86_400),
        };
        let good = Incoming {
            txid: pays.compute_txid(),
            block,
            block_time: at(made_at / 1000 + 120),
        };
        let fetched = std::sync::Mutex::new(Vec::new());
        let fetch = |txid: Txid, _: BlockHash| {
            fetched.lock().map(|mut f| f.push(txid)).ok();
            let found = (txid == good.txid).then(|| pays.clone());
            async move {
                found.ok_or_else(|| crate::Error::Config("the node has pruned this block".into()))
            }
        };
        let mut retries = Retries::default();
        let events = read_new(
            &store,
            vec![pruned, old, good],
            Network::Regtest,
            &mut retries,
            fetch,
        )
        .await?;
        assert_eq!(events.len(), 1, "the later customer's payment is matched");
        assert_eq!(db::get(&store, "inv_d").await?.status, InvoiceStatus::Paid);
        assert!(db::onchain_seen(&store, &old.txid.to_string()).await?);
        assert!(!db::onchain_seen(&store, &pruned.txid.to_string()).await?);
        let taken =
            |f: &std::sync::Mutex<Vec<Txid>>| f.lock().map(|f| f.clone()).unwrap_or_default();
        assert_eq!(
            taken(&fetched),
            vec![pruned.txid, good.txid],
            "the old one is not fetched"
        );
        // Not tried again before its wait (3 s after the first failure), then tried again.
        read_new(&store, vec![pruned], Network::Regtest, &mut retries, fetch).await?;
        assert_eq!(taken(&fetched).len(), 2, "waiting");
        if let Some(entry) = retries.failed.get_mut(&pruned.txid) {
            entry.1 = tokio::time::Instant::now(); // its wait is over
        }
        read_new(&store, vec![pruned], Network::Regtest, &mut retries, fetch).await?;
        assert_eq!(taken(&fetched).len(), 3, "tried again");
        assert_eq!(retries.failed.get(&pruned.txid).map(|(n, _)| *n), Some(2));
        Ok(())
    }

    #[test]
    fn bip21_writes_the_amount_exactly_and_encodes_the_text() {
        assert_eq!(
            super::super::bip21("bcrt1qx", 123_456_789, "Café & co", "lnbcrt9"),
            "bitcoin:bcrt1qx?amount=1.23456789&message=Caf%C3%A9%20%26%20co&lightning=lnbcrt9"
        );
        assert_eq!(
            super::super::bip21("bcrt1qx", 100_000_000, "", "ln"),
            "bitcoin:bcrt1qx?amount=1&lightning=ln"
        );
    }
}
