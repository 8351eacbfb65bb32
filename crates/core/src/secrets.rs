//! The secret store: the node seed, API keys and webhook secrets.
//!
//! Two explicit backends, never a silent in-memory fallback:
//! - the OS keyring (Secret Service on Linux, Keychain on macOS, Credential Manager on Windows);
//! - a JSON file with mode 0600 in the data dir, chosen with `--secrets file` on servers that have
//!   no keyring.
//!
//! Entries are named `<instance id>/<name>` under the service [`KEYRING_SERVICE`], so several
//! instances (mainnet, sandbox, tests) can share one keyring without clobbering each other.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::config::SecretsBackend;
use crate::error::{Error, Result};

/// The keyring service name every entry is stored under.
pub const KEYRING_SERVICE: &str = "PayAiML Merchant";

const KEYRING_HELP: &str =
    "start a Secret Service such as gnome-keyring (and unlock it), or run with `--secrets file` \
     (PAYAIML_SECRETS=file) to keep secrets in a mode-0600 file in the data dir";

/// A handle on the chosen secret store. Cheap to clone.
#[derive(Clone, Debug)]
pub struct SecretStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    namespace: String,
    backend: Backend,
}

#[derive(Debug)]
enum Backend {
    Keyring,
    File { path: PathBuf },
}

impl SecretStore {
    /// Opens the store and checks that it works, so a missing keyring fails at start with a
    /// message naming the way out rather than at the first payment.
    pub async fn open(kind: SecretsBackend, data_dir: &Path, namespace: &str) -> Result<Self> {
        let backend = match kind {
            SecretsBackend::Keyring => Backend::Keyring,
            SecretsBackend::File => Backend::File {
                path: data_dir.join("secrets.json"),
            },
        };
        let store = SecretStore {
            inner: Arc::new(Inner {
                namespace: namespace.to_string(),
                backend,
            }),
        };
        store.get("probe").await?;
        Ok(store)
    }

    /// Stores `value` under `name`, replacing any earlier value.
    pub async fn set(&self, name: &str, value: &str) -> Result<()> {
        let (inner, name, value) = (self.inner.clone(), name.to_string(), value.to_string());
        blocking(move || inner.set(&name, &value)).await
    }

    /// Reads the value stored under `name`, if any.
    pub async fn get(&self, name: &str) -> Result<Option<String>> {
        let (inner, name) = (self.inner.clone(), name.to_string());
        blocking(move || inner.get(&name)).await
    }

    /// Removes `name`; removing a missing entry is not an error.
    pub async fn delete(&self, name: &str) -> Result<()> {
        let (inner, name) = (self.inner.clone(), name.to_string());
        blocking(move || inner.delete(&name)).await
    }

    /// The full entry name (the keyring "user") for `name`.
    pub fn entry_name(&self, name: &str) -> String {
        format!("{}/{}", self.inner.namespace, name)
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Error::Secrets(format!("secret store task failed: {e}")))?
}

impl Inner {
    fn set(&self, name: &str, value: &str) -> Result<()> {
        match &self.backend {
            Backend::Keyring => self.entry(name)?.set_password(value).map_err(keyring_error),
            Backend::File { path } => {
                let _lock = FileLock::exclusive(path)?;
                let mut map = read_file(path)?;
                map.insert(self.full(name), value.to_string());
                write_file(path, &map)
            }
        }
    }

    fn get(&self, name: &str) -> Result<Option<String>> {
        match &self.backend {
            Backend::Keyring => match self.entry(name)?.get_password() {
                Ok(value) => Ok(Some(value)),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(keyring_error(e)),
            },
            Backend::File { path } => {
                let _lock = FileLock::shared(path)?;
                Ok(read_file(path)?.remove(&self.full(name)))
            }
        }
    }

    fn delete(&self, name: &str) -> Result<()> {
        match &self.backend {
            Backend::Keyring => match self.entry(name)?.delete_credential() {
                Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                Err(e) => Err(keyring_error(e)),
            },
            Backend::File { path } => {
                let _lock = FileLock::exclusive(path)?;
                let mut map = read_file(path)?;
                if map.remove(&self.full(name)).is_some() {
                    write_file(path, &map)?;
                }
                Ok(())
            }
        }
    }

    fn full(&self, name: &str) -> String {
        format!("{}/{}", self.namespace, name)
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(KEYRING_SERVICE, &self.full(name)).map_err(keyring_error)
    }
}

/// An OS lock on `secrets.json.lock` for one read or read-modify-write of the secrets file. The
/// daemon and a `payaimld keys` command run beside it are two processes writing the same file:
/// without it, one's write could drop the other's new key or webhook secret. Released on drop
/// (and by the OS if the process dies).
struct FileLock(std::fs::File);

impl FileLock {
    fn open(secrets: &Path) -> Result<std::fs::File> {
        let path = secrets.with_extension("json.lock");
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::Secrets(format!("cannot open {}: {e}", path.display())))
    }

    fn exclusive(secrets: &Path) -> Result<FileLock> {
        let file = Self::open(secrets)?;
        file.lock()
            .map_err(|e| Error::Secrets(format!("cannot lock the secrets file: {e}")))?;
        Ok(FileLock(file))
    }

    fn shared(secrets: &Path) -> Result<FileLock> {
        let file = Self::open(secrets)?;
        file.lock_shared()
            .map_err(|e| Error::Secrets(format!("cannot lock the secrets file: {e}")))?;
        Ok(FileLock(file))
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

fn keyring_error(e: keyring::Error) -> Error {
    Error::Secrets(format!(
        "the OS keyring is not usable ({e}): {KEYRING_HELP}"
    ))
}

fn read_file(path: &Path) -> Result<BTreeMap<String, String>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            Error::Secrets(format!(
                "the secrets file {} is damaged: {e}",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
        Err(e) => Err(Error::Secrets(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Writes the map with [`crate::util::write_private_file`] (mode 0600, replaced atomically).
fn write_file(path: &Path, map: &BTreeMap<String, String>) -> Result<()> {
    let bytes = serde_json::to_vec_pretty(map)
        .map_err(|e| Error::Secrets(format!("cannot encode secrets: {e}")))?;
    crate::util::write_private_file(path, &bytes)
        .map_err(|e| Error::Secrets(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn file_backend_round_trips_with_mode_0600() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let store = SecretStore::open(SecretsBackend::File, dir.path(), "ns").await?;
        assert_eq!(store.get("a").await?, None);
        store.set("a", "one").await?;
        store.set("b", "two").await?;
        assert_eq!(store.get("a").await?.as_deref(), Some("one"));
        store.delete("a").await?;
        store.delete("a").await?;
        assert_eq!(store.get("a").await?, None);
        assert_eq!(store.get("b").await?.as_deref(), Some("two"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(dir.path().join("secrets.json"))
                .map_err(|e| Error::io("stat", e))?;
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        Ok(())
    }

    /// Two stores on one file, as the daemon and `payaimld keys` are: concurrent writes from
    /// both keep every entry (each read-modify-write holds the OS file lock).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn file_backend_writers_in_two_stores_lose_nothing() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let a = SecretStore::open(SecretsBackend::File, dir.path(), "ns").await?;
        let b = SecretStore::open(SecretsBackend::File, dir.path(), "ns").await?;
        let mut tasks = Vec::new();
        for i in 0..40 {
            for (who, store) in [("a", a.clone()), ("b", b.clone())] {
                tasks.push(tokio::spawn(async move {
                    store.set(&format!("{who}{i}"), "v").await
                }));
            }
        }
        for t in tasks {
            t.await.map_err(|e| Error::Secrets(e.to_string()))??;
        }
        for i in 0..40 {
            for who in ["a", "b"] {
                assert!(
                    a.get(&format!("{who}{i}")).await?.is_some(),
                    "{who}{i} lost"
                );
            }
        }
        Ok(())
    }

    /// Talks to the real Secret Service (`make test` runs unit tests inside a private D-Bus session
    /// with gnome-keyring).
    #[tokio::test]
    async fn keyring_backend_round_trips() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let ns = format!("unit-{}", crate::util::random_lower(8));
        let store = SecretStore::open(SecretsBackend::Keyring, dir.path(), &ns).await?;
        store.set("k", "v1").await?;
        store.set("k", "v2").await?;
        assert_eq!(store.get("k").await?.as_deref(), Some("v2"));
        store.delete("k").await?;
        assert_eq!(store.get("k").await?, None);
        assert!(
            !dir.path().join("secrets.json").exists(),
            "nothing written to disk"
        );
        Ok(())
    }
}
