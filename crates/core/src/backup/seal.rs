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
    name_key: [u8; 32],
    store_id: String,
    builder: StorableBuilder<OsRandom>,
    /// The seed of the RSA key that signs JWTs for a VSS server (made on first use: a second).
    jwt_seed: [u8; 32],
    /// Shared by the clones of one sealer: the key is made at most once per process.
    jwt_key: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<rsa::RsaPrivateKey>>>,
}

impl Clone for Sealer {
    fn clone(&self) -> Sealer {
        Sealer {
            data_key: self.data_key,
            names: KeyObfuscator::new(self.name_key),
            name_key: self.name_key,
            store_id: self.store_id.clone(),
            builder: StorableBuilder::new(OsRandom),
            jwt_seed: self.jwt_seed,
            jwt_key: self.jwt_key.clone(),
        }
    }
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
        let mut jwt_seed = [0u8; 32];
        // `expand` fails only for outputs longer than 255 hash lengths; these are 32 and 16 bytes.
        for (label, out) in [
            (&b"data"[..], &mut data_key[..]),
            (&b"names"[..], &mut name_key[..]),
            (&b"store id"[..], &mut id[..]),
            (&b"vss jwt rsa key"[..], &mut jwt_seed[..]),
        ] {
            if hk.expand(label, out).is_err() {
                unreachable!("HKDF output of at most 32 bytes");
            }
        }
        Sealer {
            data_key,
            names: KeyObfuscator::new(name_key),
            name_key,
            // The same words always find the same backup; other words, another one.
            store_id: format!("payaiml-{}", hex::encode(id)),
            builder: StorableBuilder::new(OsRandom),
            jwt_seed,
            jwt_key: std::sync::Arc::default(),
        }
    }

    /// The RSA key (2048 bits) whose RS256 JWTs a VSS server in JWT mode accepts. It is derived
    /// from the recovery words (its primes drawn from a ChaCha20 stream seeded by HKDF), so a
    /// restore on a new computer signs with the key the server already trusts; the test
    /// `the_jwt_key_is_the_words_own` pins the derivation, so a change of the rsa crate that would
    /// change it fails the build instead of locking merchants out of their backups.
    pub fn jwt_key(&self) -> Result<std::sync::Arc<rsa::RsaPrivateKey>> {
        if let Some(key) = self.jwt_key.get() {
            return Ok(key.clone());
        }
        use rand_chacha::rand_core::SeedableRng;
        let mut stream = rand_chacha::ChaCha20Rng::from_seed(self.jwt_seed);
        let key = rsa::RsaPrivateKey::new(&mut stream, 2048)
            .map_err(|e| Error::Backup(format!("cannot make the backup's signing key: {e}")))?;
        Ok(self
            .jwt_key
            .get_or_init(|| std::sync::Arc::new(key))
            .clone())
    }

    /// The public half of [`Sealer::jwt_key`], as the PEM a VSS server is given
    /// (`VSS_JWT_RSA_PEM`, or `rsa_pem` in its config file).
    pub fn jwt_public_pem(&self) -> Result<String> {
        use rsa::pkcs8::EncodePublicKey;
        self.jwt_key()?
            .to_public_key()
            .to_public_key_pem(rsa::pkcs8::LineEnding::LF)
            .map_err(|e| Error::Backup(format!("cannot write the backup's public key: {e}")))
    }

    /// A JWT for the VSS server, valid for `lifetime` from `now` (Unix seconds): RS256 over
    /// `{sub, exp}`, the subject being the store id (the server keeps each subject's data apart).
    pub fn jwt(&self, now: u64, lifetime: u64) -> Result<String> {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        use rsa::signature::{SignatureEncoding, Signer};
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = serde_json::json!({ "sub": self.store_id, "exp": now + lifetime });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let message = format!("{header}.{claims}");
        let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new((*self.jwt_key()?).clone());
        let signature = signer
            .try_sign(message.as_bytes())
            .map_err(|e| Error::Backup(format!("cannot sign the backup's token: {e}")))?;
        Ok(format!(
            "{message}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        ))
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

    /// The JWT key comes from the words alone: the same words give the same key on any computer
    /// and with any later version (its fingerprint is pinned here), other words another key.
    #[test]
    fn the_jwt_key_is_the_words_own() -> Result<()> {
        let a = Sealer::from_seed(&[7u8; 64]);
        let pem = a.jwt_public_pem()?;
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
        assert_eq!(pem, Sealer::from_seed(&[7u8; 64]).jwt_public_pem()?);
        assert_ne!(pem, Sealer::from_seed(&[8u8; 64]).jwt_public_pem()?);
        let fingerprint = hex::encode(<Sha256 as sha2::Digest>::digest(pem.as_bytes()));
        assert_eq!(
            fingerprint, PINNED_JWT_KEY,
            "the derivation of the JWT key changed"
        );

        // A token the server's check accepts: three parts, RS256, the signature verifies.
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        use base64::Engine;
        use rsa::signature::Verifier;
        let token = a.jwt(1_000, 3_600)?;
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(parts[1])
                .map_err(|e| Error::Backup(e.to_string()))?,
        )
        .map_err(|e| Error::Backup(e.to_string()))?;
        assert_eq!(claims["sub"], a.store_id());
        assert_eq!(claims["exp"], 4_600);
        let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(a.jwt_key()?.to_public_key());
        let signature = rsa::pkcs1v15::Signature::try_from(
            URL_SAFE_NO_PAD
                .decode(parts[2])
                .map_err(|e| Error::Backup(e.to_string()))?
                .as_slice(),
        )
        .map_err(|e| Error::Backup(e.to_string()))?;
        let message = format!("{}.{}", parts[0], parts[1]);
        assert!(verifier.verify(message.as_bytes(), &signature).is_ok());
        Ok(())
    }

    const PINNED_JWT_KEY: &str = "572d47b9c4eb3a0cc863e558622bf04884d74d8297c63bd606eb9ddbb68fed98";
}
