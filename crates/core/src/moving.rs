//! Moving a wallet to another computer: one encrypted file with everything (the node's channel
//! state, the app's database, and the secrets from the OS keyring), and a data dir here that
//! never starts again.
//!
//! Why it retires the old copy: Lightning channel state must only ever move forward. If the old
//! data dir ran after the new one, it would sign and broadcast channel states the peers already
//! replaced, and a peer takes that as cheating and keeps the whole channel. So an export, once the
//! file is written and read back, leaves a `MOVED` note in the data dir (every start refuses it,
//! saying why: see [`crate::lock`]) and deletes the node seed from this computer's secret store,
//! so that even without the note the old copy cannot start. To undo a move, import the file into
//! a new data dir.
//!
//! The file is an [age](https://age-encryption.org) file encrypted to a passphrase (scrypt),
//! holding a tar archive: first `payaiml-move.json` (the format, the wallet's network, and the
//! secrets), then the data dir's files. `age -d` opens it too, so a merchant is never locked into
//! this program to read their own backup.

use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::config::{Config, Network};
use crate::error::{Error, Result};
use crate::lock::{DataDirLock, MOVED_NOTE};

/// The first entry of the archive.
const MANIFEST: &str = "payaiml-move.json";
/// The format this version writes and reads.
const FORMAT: u32 = 1;
/// The shortest passphrase accepted for an export: the file holds the wallet's keys.
pub const MIN_PASSPHRASE: usize = 10;

/// What the file says about itself (inside the encryption).
#[derive(Serialize, Deserialize)]
struct Manifest {
    format: u32,
    exported_at: String,
    network: Network,
    /// Whether it is a sandbox's data dir (with its bitcoind and customer node).
    sandbox: bool,
    /// Every secret of the wallet, by name: the node seed, the API keys', the webhooks', the
    /// LSP's token.
    secrets: BTreeMap<String, String>,
}

/// What an export wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    /// The file.
    pub file: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// Files of the data dir in it.
    pub files: usize,
    /// Secrets in it.
    pub secrets: usize,
}

/// What an import brought back.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The data dir it made.
    pub data_dir: PathBuf,
    /// The wallet's network.
    pub network: Network,
    /// Whether it is a sandbox's.
    pub sandbox: bool,
    /// When it was exported (RFC 3339).
    pub exported_at: String,
    /// Files written.
    pub files: usize,
    /// Secrets the wallet uses that the file did not hold (an API key or webhook whose secret
    /// was missing from the old computer's secret store): those keys cannot be revealed and
    /// those webhooks' signatures cannot be checked until they are made anew. Empty when whole.
    pub missing_secrets: Vec<String>,
}

/// The wallet kind a move file holds, without importing it (to pick the data dir it goes to).
#[derive(Debug, Clone, Copy)]
pub struct Kind {
    /// Its network.
    pub network: Network,
    /// Whether it is a sandbox's.
    pub sandbox: bool,
}

fn is_kept(relative: &Path) -> bool {
    let name = relative
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    // The lock, the note and the marker of revoked keys (for processes sharing the database
    // here) belong to this computer; secrets.json travels in the manifest (it
    // is rewritten under the new copy's own namespace); pid and lock files of the sandbox's
    // bitcoind are stale once it stopped; logs are not the wallet.
    !(relative == Path::new("instance.lock")
        || relative == Path::new(MOVED_NOTE)
        || relative == Path::new("secrets.json")
        || relative == Path::new("keys.changed")
        || name.ends_with(".pid")
        || name == ".lock"
        || name.ends_with(".log")
        || name.starts_with("payaimld-"))
}

/// Every regular file under `root` to carry, as paths relative to it.
fn files_to_carry(root: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let dir = root.join(&relative);
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
            let kind = entry
                .file_type()
                .map_err(|e| Error::io(format!("reading {}", dir.display()), e))?;
            let path = relative.join(entry.file_name());
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() && is_kept(&path) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn passphrase_of(text: &str) -> SecretString {
    SecretString::from(text.to_string())
}

/// Exports the wallet of `config`'s data dir to `file`, encrypted with `passphrase`, then retires
/// the data dir (see the module's documentation). The app must not be running (the data dir's
/// lock is taken). `file` is written beside itself first and renamed when whole; it is read back
/// and checked before anything here changes.
pub async fn export(config: &Config, file: &Path, passphrase: &str) -> Result<Exported> {
    if passphrase.chars().count() < MIN_PASSPHRASE {
        return Err(Error::invalid(
            "passphrase",
            format!(
                "choose a passphrase of at least {MIN_PASSPHRASE} characters: the file holds the \
                 wallet's keys"
            ),
        ));
    }
    if file.exists() {
        return Err(Error::Config(format!(
            "{} exists already; choose a new file name (an export never overwrites a file)",
            file.display()
        )));
    }
    let lock = DataDirLock::acquire(&config.data_dir)?;
    let (store, secrets) = crate::app::open_store(config).await?;
    let collected = crate::wallet_secrets::collect(&store, &secrets).await;
    store.close().await;
    let collected = collected?;
    if !collected.contains_key(crate::seed::SEED_SECRET) {
        let has_node = std::fs::read_dir(config.ldk_dir()).is_ok_and(|mut d| d.next().is_some());
        return Err(Error::Config(if has_node {
            format!(
                "the node seed of {} is not in this secret store ({:?}): export with the same \
                 --secrets setting (and desktop session, for the keyring) the app runs with",
                config.data_dir.display(),
                config.secrets
            )
        } else {
            format!(
                "there is no wallet in {} to export",
                config.data_dir.display()
            )
        }));
    }
    let manifest = Manifest {
        format: FORMAT,
        exported_at: crate::util::rfc3339(crate::util::now_ms()),
        network: config.network,
        sandbox: config.sandbox,
        secrets: collected,
    };
    let files = files_to_carry(&config.data_dir)?;
    let partial = file.with_extension(format!("partial{}", crate::util::random_lower(6)));
    let written = {
        let data_dir = config.data_dir.clone();
        let partial = partial.clone();
        let files = files.clone();
        let passphrase = passphrase_of(passphrase);
        let manifest = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| Error::Config(format!("cannot write the manifest: {e}")))?;
        tokio::task::spawn_blocking(move || {
            write_archive(&data_dir, &partial, &files, &manifest, passphrase)
        })
        .await
        .map_err(|e| Error::Config(format!("the export stopped: {e}")))?
    };
    if let Err(e) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    // Read back before anything here is retired: a file that does not open is no move.
    let check = {
        let partial = partial.clone();
        let passphrase = passphrase_of(passphrase);
        tokio::task::spawn_blocking(move || read_archive(&partial, passphrase, None))
            .await
            .map_err(|e| Error::Config(format!("the export check stopped: {e}")))?
    };
    match check {
        Ok((_, count)) if count == files.len() => {}
        Ok((_, count)) => {
            let _ = std::fs::remove_file(&partial);
            return Err(Error::Config(format!(
                "the export file read back with {count} of {} files; nothing was changed here",
                files.len()
            )));
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(Error::Config(format!(
                "the export file did not read back ({e}); nothing was changed here"
            )));
        }
    }
    std::fs::rename(&partial, file)
        .map_err(|e| Error::io(format!("cannot move the export to {}", file.display()), e))?;
    // The rename is durable only once its folder is synced: a power cut after the seed is gone
    // must still find the file.
    sync_folder_of(file)?;
    let bytes = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    retire(config, file, &lock).await?;
    tracing::info!(file = %file.display(), bytes, files = files.len(), "wallet exported; this data dir is retired");
    Ok(Exported {
        file: file.to_path_buf(),
        bytes,
        files: files.len(),
        secrets: manifest.secrets.len(),
    })
}

fn write_archive(
    data_dir: &Path,
    partial: &Path,
    files: &[PathBuf],
    manifest: &[u8],
    passphrase: SecretString,
) -> Result<()> {
    let io = |what: &str| {
        let what = what.to_string();
        move |e: std::io::Error| Error::io(what, e)
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    // The file holds the wallet's keys (encrypted): readable by its owner only, from the start.
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let out = options
        .open(partial)
        .map_err(io(&format!("cannot create {}", partial.display())))?;
    let recipient = age::scrypt::Recipient::new(passphrase);
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .map_err(|e| Error::Config(format!("cannot encrypt: {e}")))?;
    let writer = encryptor
        .wrap_output(std::io::BufWriter::new(out))
        .map_err(io("cannot start the encrypted file"))?;
    let mut tar = tar::Builder::new(writer);
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(0);
    header.set_cksum();
    tar.append_data(&mut header, MANIFEST, manifest)
        .map_err(io("cannot write the manifest"))?;
    for relative in files {
        let path = data_dir.join(relative);
        let mut f =
            std::fs::File::open(&path).map_err(io(&format!("cannot read {}", path.display())))?;
        tar.append_file(relative, &mut f)
            .map_err(io(&format!("cannot add {}", path.display())))?;
    }
    let writer = tar.into_inner().map_err(io("cannot finish the archive"))?;
    let buffered = writer
        .finish()
        .map_err(io("cannot finish the encrypted file"))?;
    let file = buffered
        .into_inner()
        .map_err(|e| Error::io("cannot write the export", e.into_error()))?;
    file.sync_all().map_err(io("cannot sync the export"))?;
    Ok(())
}

/// Opens a move file: its manifest, and how many files it holds. With `unpack_to`, writes them
/// there (paths that would leave that folder are refused by the tar reader).
fn read_archive(
    file: &Path,
    passphrase: SecretString,
    unpack_to: Option<&Path>,
) -> Result<(Manifest, usize)> {
    let input = std::fs::File::open(file)
        .map_err(|e| Error::io(format!("cannot open {}", file.display()), e))?;
    let not_an_export = || {
        Error::invalid(
            "file",
            format!("{} is not a PayAiML Merchant export file", file.display()),
        )
    };
    let decryptor =
        age::Decryptor::new_buffered(BufReader::new(input)).map_err(|_| not_an_export())?;
    if !decryptor.is_scrypt() {
        return Err(not_an_export());
    }
    let identity = age::scrypt::Identity::new(passphrase);
    let reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::ExcessiveWork { .. } => Error::invalid(
                "file",
                "this file's passphrase protection needs far more work than this computer \
                 allows; export it again on the old computer",
            ),
            _ => Error::invalid(
                "passphrase",
                "the passphrase does not open this file; nothing was changed (try again, \
                 minding the letter case)",
            ),
        })?;
    let mut archive = tar::Archive::new(reader);
    let damaged =
        |e: std::io::Error| Error::invalid("file", format!("the export file is damaged: {e}"));
    let mut entries = archive.entries().map_err(damaged)?;
    let manifest: Manifest = {
        let mut first = entries.next().ok_or_else(not_an_export)?.map_err(damaged)?;
        if first.path().map_err(damaged)?.as_ref() != Path::new(MANIFEST) {
            return Err(not_an_export());
        }
        let mut text = String::new();
        first.read_to_string(&mut text).map_err(damaged)?;
        serde_json::from_str(&text).map_err(|_| not_an_export())?
    };
    if manifest.format != FORMAT {
        return Err(Error::invalid(
            "file",
            format!(
                "this export is in format {}; this version reads format {FORMAT}: update the app",
                manifest.format
            ),
        ));
    }
    let mut count = 0;
    for entry in entries {
        let mut entry = entry.map_err(damaged)?;
        match unpack_to {
            Some(dir) => {
                if !entry.unpack_in(dir).map_err(damaged)? {
                    return Err(Error::invalid(
                        "file",
                        "the export file holds a path outside its folder; it was not made by \
                         this app",
                    ));
                }
            }
            None => {
                std::io::copy(&mut entry, &mut std::io::sink()).map_err(damaged)?;
            }
        }
        count += 1;
    }
    Ok((manifest, count))
}

/// Syncs the folder that holds `file`, so that a rename into it survives a power cut. (On
/// Windows a folder cannot be opened as a file, and NTFS journals the rename itself.)
#[cfg(not(unix))]
fn sync_folder_of(_file: &Path) -> Result<()> {
    Ok(())
}

/// Syncs the folder that holds `file`, so that a rename into it survives a power cut.
#[cfg(unix)]
fn sync_folder_of(file: &Path) -> Result<()> {
    let folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::File::open(&folder)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io(format!("cannot sync {}", folder.display()), e))
}

/// Leaves the note that refuses every later start, and removes every secret of the wallet from
/// this computer's secret store: the seed, the API keys', the webhooks', the LSP's token. The
/// note first: should removing a secret fail, the data dir is retired anyway.
async fn retire(config: &Config, file: &Path, _lock: &DataDirLock) -> Result<()> {
    let note = serde_json::json!({
        "moved_at": crate::util::rfc3339(crate::util::now_ms()),
        "file": file.display().to_string(),
    });
    crate::util::write_private_file(
        &config.data_dir.join(MOVED_NOTE),
        note.to_string().as_bytes(),
    )
    .map_err(|e| Error::io("cannot leave the moved note", e))?;
    let (store, secrets) = crate::app::open_store(config).await?;
    let removed = async {
        let (needed, optional) = crate::wallet_secrets::secret_names(&store).await?;
        // Revoked keys' secrets are gone already; these are every name the data dir still uses.
        // Each is tried, and the first failure said.
        let mut first_failure = Ok(());
        for name in needed.iter().chain(&optional) {
            if let Err(e) = secrets.delete(name).await {
                tracing::warn!(secret = %name, error = %e, "could not remove a secret of the retired wallet");
                if first_failure.is_ok() {
                    first_failure = Err(e);
                }
            }
        }
        first_failure
    }
    .await;
    store.close().await;
    removed
}

/// The kind of wallet in a move file (opens it with the passphrase, writes nothing).
pub async fn kind_of(file: &Path, passphrase: &str) -> Result<Kind> {
    let file = file.to_path_buf();
    let passphrase = passphrase_of(passphrase);
    let (manifest, _) = tokio::task::spawn_blocking(move || read_archive(&file, passphrase, None))
        .await
        .map_err(|e| Error::Config(format!("reading the export stopped: {e}")))??;
    Ok(Kind {
        network: manifest.network,
        sandbox: manifest.sandbox,
    })
}

/// Imports a move file into `config`'s data dir, which must be empty or missing. Everything is
/// unpacked into a folder beside it first and renamed into place only when whole, so a wrong
/// passphrase or a damaged file leaves nothing behind. The copy gets its own secret-store
/// namespace (a new instance id), so it never shares keyring entries with another data dir.
pub async fn import(config: &Config, file: &Path, passphrase: &str) -> Result<Imported> {
    let target = &config.data_dir;
    if std::fs::read_dir(target).is_ok_and(|mut d| d.next().is_some()) {
        return Err(Error::Config(format!(
            "{} is not empty: import into a new, empty data dir (--data-dir)",
            target.display()
        )));
    }
    let parent = target
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&parent)
        .map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
    let staging = parent.join(format!(
        ".{}.importing-{}",
        target
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("wallet"),
        crate::util::random_lower(6)
    ));
    let result = unpack_and_place(config, file, passphrase, &staging).await;
    if result.is_err() {
        let _ = std::fs::remove_dir_all(&staging);
    }
    result
}

async fn unpack_and_place(
    config: &Config,
    file: &Path,
    passphrase: &str,
    staging: &Path,
) -> Result<Imported> {
    std::fs::create_dir_all(staging)
        .map_err(|e| Error::io(format!("cannot create {}", staging.display()), e))?;
    let (manifest, files) = {
        let file = file.to_path_buf();
        let staging = staging.to_path_buf();
        let passphrase = passphrase_of(passphrase);
        tokio::task::spawn_blocking(move || read_archive(&file, passphrase, Some(&staging)))
            .await
            .map_err(|e| Error::Config(format!("the import stopped: {e}")))??
    };
    if manifest.network != config.network || manifest.sandbox != config.sandbox {
        return Err(Error::Config(format!(
            "this file holds a {} wallet{}, not a {}{} one: import it with the matching settings",
            manifest.network.as_str(),
            if manifest.sandbox { " (sandbox)" } else { "" },
            config.network.as_str(),
            if config.sandbox { " (sandbox)" } else { "" },
        )));
    }
    let staged = Config {
        data_dir: staging.to_path_buf(),
        ..config.clone()
    };
    let missing_secrets: Vec<String>;
    {
        let store = crate::store::Store::open(&staged.database_path()).await?;
        let instance = crate::util::random_lower(16);
        let set = store.set_setting("instance_id", &instance).await;
        store.close().await;
        set?;
        let (store, secrets) = crate::app::open_store(&staged).await?;
        let mut written = Ok(());
        for (name, value) in &manifest.secrets {
            written = secrets.set(name, value).await;
            if written.is_err() {
                break;
            }
        }
        let needed = crate::wallet_secrets::secret_names(&store).await;
        store.close().await;
        written?;
        missing_secrets = needed?
            .0
            .into_iter()
            .filter(|name| !manifest.secrets.contains_key(name))
            .collect();
        if !missing_secrets.is_empty() {
            tracing::warn!(missing = ?missing_secrets, "the move file lacks secrets this wallet uses");
        }
    }
    if config.data_dir.exists() {
        std::fs::remove_dir(&config.data_dir).map_err(|e| {
            Error::io(
                format!("cannot replace the empty {}", config.data_dir.display()),
                e,
            )
        })?;
    }
    std::fs::rename(staging, &config.data_dir).map_err(|e| {
        Error::io(
            format!("cannot move the import to {}", config.data_dir.display()),
            e,
        )
    })?;
    tracing::info!(data_dir = %config.data_dir.display(), files, "wallet imported");
    Ok(Imported {
        data_dir: config.data_dir.clone(),
        network: manifest.network,
        sandbox: manifest.sandbox,
        exported_at: manifest.exported_at,
        files,
        missing_secrets,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_travels_and_what_stays() {
        for (path, kept) in [
            ("payaiml.sqlite", true),
            ("ldk/ldk_node_data.sqlite", true),
            ("customer/keys_seed", true),
            ("instance.lock", false),
            ("MOVED", false),
            ("secrets.json", false),
            ("bitcoind/regtest/.lock", false),
            ("bitcoind/bitcoind.pid", false),
            ("ldk/ldk_node.log", false),
        ] {
            assert_eq!(is_kept(Path::new(path)), kept, "{path}");
        }
    }

    #[test]
    fn a_file_reads_back_only_with_its_passphrase() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("ldk")).map_err(|e| Error::io("mkdir", e))?;
        std::fs::write(data.join("ldk/state"), b"channel state")
            .map_err(|e| Error::io("write", e))?;
        let file = dir.path().join("wallet.age");
        let manifest = serde_json::to_vec(&Manifest {
            format: FORMAT,
            exported_at: "2026-01-01T00:00:00Z".into(),
            network: Network::Regtest,
            sandbox: true,
            secrets: BTreeMap::from([("node-seed".to_string(), "words".to_string())]),
        })
        .map_err(|e| Error::Config(e.to_string()))?;
        let files = files_to_carry(&data)?;
        write_archive(
            &data,
            &file,
            &files,
            &manifest,
            passphrase_of("correct horse battery"),
        )?;
        let wrong = read_archive(&file, passphrase_of("wrong horse battery"), None)
            .err()
            .map(|e| e.to_string());
        assert!(
            wrong.as_deref().is_some_and(|e| e.contains("passphrase")),
            "{wrong:?}"
        );
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).map_err(|e| Error::io("mkdir", e))?;
        let (read, count) =
            read_archive(&file, passphrase_of("correct horse battery"), Some(&out))?;
        assert_eq!((count, read.secrets.len()), (1, 1));
        assert_eq!(
            std::fs::read(out.join("ldk/state")).map_err(|e| Error::io("read", e))?,
            b"channel state"
        );
        Ok(())
    }

    /// Every secret the data dir uses travels (the LSP's token too), the file is private and
    /// durable before the old copy is retired, retiring forgets every secret of the wallet, and
    /// an import says which secrets a file lacks.
    #[tokio::test]
    async fn every_secret_travels_and_the_old_copy_keeps_none() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
        let mut old = Config::new(Network::Regtest);
        old.data_dir = dir.path().join("old");
        old.secrets = crate::config::SecretsBackend::File;
        std::fs::create_dir_all(old.ldk_dir()).map_err(|e| Error::io("mkdir", e))?;
        let names = {
            let (store, secrets) = crate::app::open_store(&old).await?;
            let keys =
                crate::keys::Keys::new(store.clone(), secrets.clone(), old.keys_marker_path());
            let (_, _) = keys.admin_key().await?;
            let lost = keys
                .create(crate::keys::NewKey {
                    name: "lost".into(),
                    permissions: [crate::keys::Permission::LightningRead].into(),
                    budget: None,
                    expires_at_ms: None,
                })
                .await?
                .key;
            secrets.set(crate::seed::SEED_SECRET, "words").await?;
            secrets
                .set(crate::settings::LSP_TOKEN, "lsp-secret")
                .await?;
            // A key whose secret is already gone from this store travels without it.
            secrets.delete(&crate::keys::secret_name(&lost.id)).await?;
            let names = crate::wallet_secrets::secret_names(&store).await?;
            store.close().await;
            names
        };
        let file = dir.path().join("exports").join("shop.payaiml");
        std::fs::create_dir_all(dir.path().join("exports")).map_err(|e| Error::io("mkdir", e))?;
        export(&old, &file, "a long enough passphrase").await?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file)
                .map_err(|e| Error::io("stat", e))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "the export is private");
        }
        {
            let (store, secrets) = crate::app::open_store(&old).await?;
            for name in names.0.iter().chain(&names.1) {
                assert_eq!(secrets.get(name).await?, None, "{name} left behind");
            }
            store.close().await;
        }
        let mut new = old.clone();
        new.data_dir = dir.path().join("new");
        let imported = import(&new, &file, "a long enough passphrase").await?;
        assert_eq!(imported.missing_secrets.len(), 1, "{imported:?}");
        assert!(imported.missing_secrets[0].starts_with("api-key/"));
        let (store, secrets) = crate::app::open_store(&new).await?;
        assert_eq!(
            secrets.get(crate::settings::LSP_TOKEN).await?.as_deref(),
            Some("lsp-secret"),
            "the LSP token travels"
        );
        assert_eq!(
            secrets.get(crate::seed::SEED_SECRET).await?.as_deref(),
            Some("words")
        );
        store.close().await;
        Ok(())
    }
}
