//! A new data folder filled from the backup: every entry of the node's store the target holds for
//! these recovery words, opened and checked, written to a fresh local store before the node first
//! starts. A target with nothing for these words is an error, never an empty wallet.

use std::path::Path;

use ldk_node::io::sqlite_store::SQLITE_DB_FILE_NAME;
use ldk_node::lightning::util::persist::KVStoreSync;
use serde::Serialize;

use super::mirror::{open_local_store, place, split_name, Acked, STATE_FILE};
use super::seal::Sealer;
use super::target::Target;
use crate::error::{Error, Result};

/// What a restore brought back.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Restored {
    /// Entries of the node's store written.
    pub entries: u64,
    /// Their size, in bytes.
    pub bytes: u64,
    /// Of them, channel monitors (one per channel, open or closing).
    pub channel_monitors: u64,
}

/// An error saying so unless `target` holds channel state for these words.
pub async fn check_holds(target: &Target, sealer: &Sealer) -> Result<()> {
    let objects = target.list().await?;
    if objects.iter().any(|o| {
        sealer
            .open_name(o)
            .is_ok_and(|name| split_name(&name).is_some())
    }) {
        return Ok(());
    }
    Err(Error::Backup(format!(
        "{} holds no backup for these recovery words: check the words and the target (nothing was started)",
        target.describe()
    )))
}

/// Fills `ldk_dir` (which must hold no node store yet) from `target`.
pub async fn restore_node_state(
    ldk_dir: &Path,
    target: &Target,
    sealer: &Sealer,
) -> Result<Restored> {
    let store_file = ldk_dir.join(SQLITE_DB_FILE_NAME);
    if store_file.exists() {
        return Err(Error::Config(format!(
            "{} already holds a node's store: restore into a new data folder",
            ldk_dir.display()
        )));
    }
    check_holds(target, sealer).await?;
    let objects = target.list().await?;
    // Objects another wallet left in the same place are not ours (their names do not open).
    let names: Vec<(String, String)> = objects
        .into_iter()
        .filter_map(|o| sealer.open_name(&o).ok().map(|n| (o, n)))
        .collect();
    let local = open_local_store(ldk_dir)?;
    let acked = Acked::open(&ldk_dir.join(STATE_FILE)).await?;
    let mut restored = Restored {
        entries: 0,
        bytes: 0,
        channel_monitors: 0,
    };
    let result = async {
        acked.for_place(&place(target, sealer)).await?;
        for (object, name) in &names {
            let Some((primary, secondary, key)) = split_name(name) else {
                continue;
            };
            let Some(sealed) = target.get(object).await? else {
                // Removed since the listing: the node dropped it.
                continue;
            };
            let (value, _) = sealer.open(name, &sealed)?;
            restored.bytes += value.len() as u64;
            restored.entries += 1;
            if primary == "monitors" {
                restored.channel_monitors += 1;
            }
            let digest: [u8; 32] = <sha2::Sha256 as sha2::Digest>::digest(&value).into();
            KVStoreSync::write(&local, primary, secondary, key, value)
                .map_err(|e| Error::io(format!("writing {name} to the new store"), e.into()))?;
            acked.set(name, Some(digest)).await?;
        }
        Ok::<(), Error>(())
    }
    .await;
    acked.close().await;
    drop(local);
    if let Err(e) = result {
        // A half-filled store must not start as if it were whole: the next try starts over.
        for file in [SQLITE_DB_FILE_NAME, STATE_FILE] {
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(ldk_dir.join(format!("{file}{suffix}")));
            }
        }
        return Err(e);
    }
    Ok(restored)
}

/// Before the node opens its store: if the store is missing from `ldk_dir` (a new computer after
/// `init --restore`, or a lost or wiped data folder) and the target holds this wallet's channel
/// state, brings it back first. A wallet whose node ran before, or whose words were restored with
/// this backup, is never started empty when its store is gone: if the target cannot be asked, or has nothing, the
/// start fails and says so (a new wallet starts empty, as it should).
pub async fn bring_back_missing_store(
    ldk_dir: &Path,
    target: &Target,
    sealer: &Sealer,
    must_exist: bool,
) -> Result<Option<Restored>> {
    if ldk_dir.join(SQLITE_DB_FILE_NAME).exists() {
        return Ok(None);
    }
    let holds = match check_holds(target, sealer).await {
        Ok(()) => true,
        Err(Error::Backup(e)) if e.contains("holds no backup") => false,
        Err(e) if must_exist => {
            return Err(Error::Backup(format!(
                "the node's channel state is not in {} and the backup target could not be asked for it ({e}); the node waits for the target rather than start without its channels",
                ldk_dir.display()
            )))
        }
        // A new wallet: nothing to bring back; the mirror shows the target as behind.
        Err(_) => false,
    };
    if !holds {
        if must_exist {
            return Err(Error::Backup(format!(
                "the node's channel state is not in {} and {} holds none for these recovery words; the node is not started empty (put the data folder back, or choose the target that holds its backup)",
                ldk_dir.display(),
                target.describe()
            )));
        }
        return Ok(None);
    }
    let restored = restore_node_state(ldk_dir, target, sealer).await?;
    tracing::info!(
        entries = restored.entries,
        channel_monitors = restored.channel_monitors,
        bytes = restored.bytes,
        "brought the node's channel state back from the backup"
    );
    Ok(Some(restored))
}
