//! The node seed: the recovery words (BIP39) from which the node's keys, its node id and its
//! on-chain wallet are derived. They live in the secret store only, never in SQLite or a log.
//!
//! A real wallet (bitcoin, testnet, signet) is made only on purpose, by [`crate::App::init`]:
//! from new words ([`new_words`]) the merchant was shown once and has written down, or from the
//! merchant's own words to restore a wallet. Only a regtest node (the sandbox) makes its seed by
//! itself on first start.

use std::path::Path;

use ldk_node::bip39::{Language, Mnemonic};

use crate::error::{Error, Result};
use crate::secrets::SecretStore;
use crate::store::Store;

/// The secret store entry of the seed.
pub(crate) const SEED_SECRET: &str = "node-seed";
/// The setting that says when the seed was made or restored (and so that a node existed).
const SEED_CREATED_AT: &str = "seed_created_at";
/// The setting that says whether the seed was made here or restored from words.
const SEED_ORIGIN: &str = "seed_origin";

/// Where a wallet's words came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Made here; the merchant was shown the words.
    New,
    /// Restored from words the merchant typed.
    Restored,
}

/// A fresh set of 24 recovery words.
pub fn new_words() -> Mnemonic {
    ldk_node::generate_entropy_mnemonic(None)
}

/// Three word positions (1-based, in order) of a list of `count` words, picked at random, for
/// the merchant to type back: proof the words were written down, not skipped.
pub fn positions_to_confirm(count: usize) -> [usize; 3] {
    let mut picked: Vec<usize> =
        rand::seq::index::sample(&mut rand::thread_rng(), count.max(3), 3).into_vec();
    picked.sort_unstable();
    match picked[..] {
        [a, b, c] => [a + 1, b + 1, c + 1],
        _ => [1, 2, 3],
    }
}

/// Reads recovery words typed by a person: any whitespace between words, any letter case. Every
/// way they can be wrong gets a message that says which word or what to check.
pub fn parse_recovery_words(text: &str) -> Result<Mnemonic> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    if words.is_empty() {
        return Err(Error::invalid(
            "words",
            "type the recovery words, separated by spaces",
        ));
    }
    if ![12, 15, 18, 21, 24].contains(&words.len()) {
        return Err(Error::invalid(
            "words",
            format!(
                "recovery words come in 12, 15, 18, 21 or 24 (this app makes 24); got {}",
                words.len()
            ),
        ));
    }
    let english = Language::English;
    for (i, word) in words.iter().enumerate() {
        if english.find_word(word).is_none() {
            // BIP39 words are told apart by their first four letters.
            let prefix: String = word.chars().take(4).collect();
            let hint = match english.words_by_prefix(&prefix) {
                [one] => format!("; did you mean '{one}'?"),
                _ => String::new(),
            };
            return Err(Error::invalid(
                "words",
                format!(
                    "word {} ('{word}') is not a BIP39 recovery word{hint}",
                    i + 1
                ),
            ));
        }
    }
    Mnemonic::parse_in(english, words.join(" ")).map_err(|e| match e {
        ldk_node::bip39::Error::InvalidChecksum => Error::invalid(
            "words",
            "every word is a recovery word, but together they fail their checksum: one is \
             wrong or out of order; check them against where they were written down",
        ),
        other => Error::invalid(
            "words",
            format!("these recovery words are not valid: {other}"),
        ),
    })
}

/// Whether this data dir has (or had) a wallet: its seed, the record of one, or node state.
pub(crate) async fn has_wallet(
    store: &Store,
    secrets: &SecretStore,
    ldk_dir: &Path,
) -> Result<bool> {
    Ok(secrets.get(SEED_SECRET).await?.is_some()
        || store.setting(SEED_CREATED_AT).await?.is_some()
        || std::fs::read_dir(ldk_dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(false))
}

/// Removes the record of a seed from a database brought back from a backup, whose seed the
/// restore stores again (with its own origin and time).
pub(crate) async fn forget_record(store: &Store) -> Result<()> {
    sqlx::query("DELETE FROM settings WHERE name IN (?, ?)")
        .bind(SEED_CREATED_AT)
        .bind(SEED_ORIGIN)
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Stores the seed of a data dir that has no wallet yet. Refused when it has one: a second seed
/// would silently start a different, empty wallet beside the first one's state.
pub(crate) async fn store_new(
    store: &Store,
    secrets: &SecretStore,
    ldk_dir: &Path,
    mnemonic: &Mnemonic,
    origin: Origin,
) -> Result<()> {
    if has_wallet(store, secrets, ldk_dir).await? {
        return Err(Error::Config(
            "this data dir already has a wallet; to make or restore another one, use an empty \
             data dir (--data-dir)"
                .into(),
        ));
    }
    secrets.set(SEED_SECRET, &mnemonic.to_string()).await?;
    store
        .set_setting(SEED_CREATED_AT, &crate::util::now_ms().to_string())
        .await?;
    let origin = match origin {
        Origin::New => "new",
        Origin::Restored => "restored",
    };
    store.set_setting(SEED_ORIGIN, origin).await?;
    tracing::info!(origin, "stored the node seed in the secret store");
    Ok(())
}

/// Reads the seed from the secret store. With none yet, a regtest node (`may_create`) makes one;
/// any other is refused with the way to make or restore one. A seed that should exist but does
/// not is an error too: making a new one would silently start a different, empty wallet.
pub(crate) async fn load(
    store: &Store,
    secrets: &SecretStore,
    ldk_dir: &Path,
    data_dir: &Path,
    may_create: bool,
) -> Result<Mnemonic> {
    if let Some(words) = secrets.get(SEED_SECRET).await? {
        return Mnemonic::parse(words.trim()).map_err(|e| {
            Error::Secrets(format!("the node seed in the secret store is damaged: {e}"))
        });
    }
    if has_wallet(store, secrets, ldk_dir).await? {
        return Err(Error::Secrets(format!(
            "the node seed ({}) is missing from the secret store, but this data dir already has a node; \
             restore the secret store (or use the same --secrets backend as before) instead of starting a new wallet",
            secrets.entry_name(SEED_SECRET)
        )));
    }
    if !may_create {
        return Err(Error::Config(format!(
            "there is no wallet in {} yet: run `payaimld init` to make one (its recovery words are \
             shown once, to write down), or `payaimld init --restore` to restore one from its words \
             (with the same --network, --data-dir and --secrets)",
            data_dir.display()
        )));
    }
    let mnemonic = new_words();
    store_new(store, secrets, ldk_dir, &mnemonic, Origin::New).await?;
    Ok(mnemonic)
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID_24: &str = "abandon abandon abandon abandon abandon abandon abandon abandon \
        abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon \
        abandon abandon abandon abandon art";

    fn problem(text: &str) -> String {
        parse_recovery_words(text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn words_are_read_forgivingly_and_refused_clearly() {
        assert!(parse_recovery_words(VALID_24).is_ok());
        assert!(
            parse_recovery_words(&format!("  {}\n", VALID_24.to_uppercase())).is_ok(),
            "case and spacing do not matter"
        );
        assert!(problem("").contains("type the recovery words"));
        assert!(problem("abandon abandon abandon").contains("got 3"));
        let typo = VALID_24.replacen("abandon", "abandn", 1);
        assert_eq!(
            problem(&typo),
            "word 1 ('abandn') is not a BIP39 recovery word; did you mean 'abandon'?"
        );
        let unknown = VALID_24.replacen("art", "zzzz", 1);
        assert!(problem(&unknown).contains("word 24 ('zzzz')"));
        let swapped = VALID_24.replacen("art", "zoo", 1);
        assert!(
            problem(&swapped).contains("checksum"),
            "{}",
            problem(&swapped)
        );
        assert_eq!(
            parse_recovery_words(VALID_24).ok().map(|m| m.to_string()),
            Mnemonic::parse(VALID_24).ok().map(|m| m.to_string()),
            "the same words give the same seed"
        );
    }
}
