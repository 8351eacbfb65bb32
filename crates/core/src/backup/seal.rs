//! What leaves the computer is sealed here: every value is encrypted and authenticated, every
//! name is encrypted, with keys derived from the recovery words. The target sees opaque names,
//! sizes and times, nothing else.
//!
//! The encryption is vss-client's (`StorableBuilder`: ChaCha20-Poly1305 with a random nonce and
//! the name as associated data, so a value cannot be moved under another name; `KeyObfuscator`:
//! deterministic, so a rewrite of one name lands on the same object). It is the format LDK's own
//! VSS store uses, reviewed there, rather than an AEAD wrapping of our own. The keys come from the
//! BIP-39 seed through HKDF-SHA256 with labels of our own, so they differ from the node's keys
//! and from the keys ldk-node's VSS store would derive.

use hkdf::Hkdf;
use sha2::Sha256;
use vss_client::prost::Message;
use vss_client::types::Storable;
use vss_client::util::key_obfuscator::KeyObfuscator;
use vss_client::util::storable_builder::{EntropySource, StorableBuilder};

use crate::error::{Error, Result};

/// The random nonce of each sealed value.
struct OsRandom;

impl EntropySource for OsRandom {
    fn fill_bytes(&self, buffer: &mut [u8]) {
        use rand::RngCore;
        rand::rngs::OsRng.fill_bytes(buffer);
    }
}

/// Seals and opens the backup's names and values for one wallet (one set of recovery words).
pub struct Sealer {
    data_key: [u8; 32],
    names: KeyObfuscator,
    store_id: String,
    builder: StorableBuilder<OsRandom>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("store_id", &self.store_id)
            .finish_non_exhaustive()
    }
}

impl Sealer {
    /// The sealer of the wallet whose BIP-39 seed (64 bytes, from the words) is `seed`.
    pub fn from_seed(seed: &[u8]) -> Sealer {
        let hk = Hkdf::<Sha256>::new(Some(b"payaiml-merchant backup v1"), seed);
        let mut data_key = [0u8; 32];
        let mut name_key = [0u8; 32];
        let mut id = [0u8; 16];
        // `expand` fails only for outputs longer than 255 hash lengths; these are 32 and 16 bytes.
        for (label, out) in [
            (&b"data"[..], &mut data_key[..]),
            (&b"names"[..], &mut name_key[..]),
            (&b"store id"[..], &mut id[..]),
        ] {
            if hk.expand(label, out).is_err() {
                unreachable!("HKDF output of at most 32 bytes");
            }
        }
        Sealer {
            data_key,
            names: KeyObfuscator::new(name_key),
            // The same words always find the same backup; other words, another one.
            store_id: format!("payaiml-{}", hex::encode(id)),
            builder: StorableBuilder::new(OsRandom),
        }
    }

    /// The sealer of the wallet with these recovery words.
    pub fn from_mnemonic(mnemonic: &ldk_node::bip39::Mnemonic) -> Sealer {
        Sealer::from_seed(&mnemonic.to_seed(""))
    }

    /// Where this wallet's objects live on a target: the VSS store id, or the folder's
    /// sub-folder. Derived from the words, so it names no node and no person.
    pub fn store_id(&self) -> &str {
        &self.store_id
    }

    /// The object name under which `name` is kept: encrypted, and safe as a file name
    /// (base64's `/` and `+` become `_` and `-`).
    pub fn seal_name(&self, name: &str) -> String {
        self.names
            .obfuscate(name)
            .chars()
            .map(|c| match c {
                '/' => '_',
                '+' => '-',
                c => c,
            })
            .collect()
    }

    /// The name an object name stands for.
    pub fn open_name(&self, object: &str) -> Result<String> {
        let standard: String = object
            .chars()
            .map(|c| match c {
                '_' => '/',
                '-' => '+',
                c => c,
            })
            .collect();
        self.names
            .deobfuscate(&standard)
            .map_err(|_| Error::Backup(format!("object '{object}' is not one of this wallet's")))
    }

    /// `value` sealed under `name`, with the mirror's sequence number (so a restore can say how
    /// recent what it found is).
    pub fn seal(&self, name: &str, value: Vec<u8>, sequence: u64) -> Vec<u8> {
        let version = i64::try_from(sequence).unwrap_or(i64::MAX);
        self.builder
            .build(value, version, &self.data_key, name.as_bytes())
            .encode_to_vec()
    }

    /// The value and sequence number sealed under `name`; an error if it was sealed under
    /// another name, with other words, or altered.
    pub fn open(&self, name: &str, sealed: &[u8]) -> Result<(Vec<u8>, u64)> {
        let refused = || {
            Error::Backup(format!(
                "the backup's copy of {name} does not open with these recovery words (altered, or another wallet's)"
            ))
        };
        let storable = Storable::decode(sealed).map_err(|_| refused())?;
        let (value, version) = self
            .builder
            .deconstruct(storable, &self.data_key, name.as_bytes())
            .map_err(|_| refused())?;
        Ok((value, u64::try_from(version).unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_round_trip_and_reveal_nothing() -> Result<()> {
        let a = Sealer::from_seed(&[7u8; 64]);
        let b = Sealer::from_seed(&[8u8; 64]);
        assert_ne!(a.store_id(), b.store_id());
        assert_eq!(a.store_id(), Sealer::from_seed(&[7u8; 64]).store_id());

        let name = "ldk/monitors//a1b2c3_0";
        let object = a.seal_name(name);
        assert!(!object.contains("monitors"), "{object}");
        assert!(!object.contains('/'), "a file name: {object}");
        assert_eq!(object, a.seal_name(name), "deterministic");
        assert_eq!(a.open_name(&object)?, name);
        assert!(
            b.open_name(&object).is_err(),
            "other words cannot read the name"
        );

        let sealed = a.seal(name, b"channel state".to_vec(), 42);
        assert!(!sealed.windows(7).any(|w| w == b"channel"));
        assert_eq!(a.open(name, &sealed)?, (b"channel state".to_vec(), 42));
        // Another name, other words or one flipped bit: refused.
        assert!(a.open("ldk/monitors//other", &sealed).is_err());
        assert!(b.open(name, &sealed).is_err());
        let mut altered = sealed.clone();
        let last = altered.len() - 1;
        altered[last] ^= 1;
        assert!(a.open(name, &altered).is_err());
        Ok(())
    }
}
