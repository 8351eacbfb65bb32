//! BOLT11 invoices made in the test, signed by a throwaway key: one for another network, one
//! already expired, one that no route reaches.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bitcoin::hashes::{sha256, Hash};
use bitcoin::secp256k1::{Secp256k1, SecretKey};
use lightning_invoice::{Currency, InvoiceBuilder, PaymentSecret};

fn build(currency: Currency, created: Duration, expiry: Duration) -> String {
    let secp = Secp256k1::new();
    let key = SecretKey::from_slice(&[7u8; 32]).expect("key");
    let hash = sha256::Hash::hash(&created.as_nanos().to_be_bytes());
    InvoiceBuilder::new(currency)
        .description("fixture".into())
        .payment_hash(hash)
        .payment_secret(PaymentSecret([9u8; 32]))
        .duration_since_epoch(created)
        .min_final_cltv_expiry_delta(144)
        .amount_milli_satoshis(10_000)
        .expiry_time(expiry)
        .build_signed(|msg| secp.sign_ecdsa_recoverable(msg, &key))
        .expect("invoice")
        .to_string()
}

fn now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("clock")
}

/// A valid, unexpired mainnet invoice.
pub fn mainnet() -> String {
    build(Currency::Bitcoin, now(), Duration::from_secs(3600))
}

/// A regtest invoice that expired an hour ago.
pub fn expired_regtest() -> String {
    build(
        Currency::Regtest,
        now() - Duration::from_secs(7200),
        Duration::from_secs(3600),
    )
}

/// A valid regtest invoice from a node nobody has a channel with: paying it fails.
pub fn unroutable_regtest() -> String {
    build(Currency::Regtest, now(), Duration::from_secs(3600))
}

/// A regtest invoice that says it expires in 2^64 − 1 seconds: adding that to its creation time
/// overflows unless checked.
pub fn huge_expiry_regtest() -> String {
    build(Currency::Regtest, now(), Duration::from_secs(u64::MAX))
}
