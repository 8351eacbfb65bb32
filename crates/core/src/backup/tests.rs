//! The mirror and the restore against a real folder target (the VSS target is exercised end to
//! end against a real vss-server in tests/regtest/backup.rs).

use std::path::Path;
use std::time::{Duration, Instant};

use ldk_node::lightning::util::persist::KVStoreSync;

use super::mirror::{self, Running};
use super::*;
use crate::error::Result;

fn sealer() -> Sealer {
    Sealer::from_seed(&[3u8; 64])
}

fn start(ldk_dir: &Path, folder: &Path) -> Result<Running> {
    let config = TargetConfig::Folder {
        path: folder.to_path_buf(),
    };
    mirror::start(ldk_dir, Target::open(&config, &sealer())?, sealer())
}

async fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the mirror has compared the store with the target and sent everything.
async fn up_to_date(running: &Running) {
    until("the backup to be up to date", || {
        running.mirror.status().state == BackupState::UpToDate
    })
    .await;
}

fn write(running: &Running, p: &str, s: &str, k: &str, v: &[u8]) {
    KVStoreSync::write(&*running.store, p, s, k, v.to_vec()).expect("local write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_reaches_the_folder_and_a_restore_brings_it_back() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tempdir", e))?;
    let (ldk, folder) = (dir.path().join("ldk"), dir.path().join("nas"));
    let running = start(&ldk, &folder)?;
    up_to_date(&running).await;
    write(&running, "", "", "manager", b"manager v1");
    write(&running, "monitors", "", "abc_0", b"monitor one");
    write(&running, "monitor_updates", "abc_0", "1", b"update one");
    write(&running, "", "", "network_graph", b"gossip stays local");
    // A write while the target keeps up returns once it is there: nothing is pending.
    let status = running.mirror.status();
    assert_eq!(
        (status.state, status.pending_changes),
        (BackupState::UpToDate, 0)
    );
    write(&running, "", "", "manager", b"manager v2");
    KVStoreSync::remove(&*running.store, "monitor_updates", "abc_0", "1", false).expect("remove");
    until("the removal", || {
        running.mirror.status().pending_changes == 0
    })
    .await;
    running.stop(Duration::from_secs(5));
    drop(running);

    // The folder holds sealed objects only: no name or value in the clear.
    let objects: Vec<_> = std::fs::read_dir(folder.join(sealer().store_id()))
        .map_err(|e| crate::Error::io("listing", e))?
        .filter_map(|e| e.ok())
        .collect();
    assert_eq!(
        objects.len(),
        2,
        "manager and monitor; the update was removed, gossip is not sent"
    );
    for object in &objects {
        let name = object.file_name().to_string_lossy().into_owned();
        assert!(
            !name.contains("monitor") && !name.contains("manager"),
            "{name}"
        );
        let bytes = std::fs::read(object.path()).map_err(|e| crate::Error::io("read", e))?;
        assert!(!bytes.windows(7).any(|w| w == b"manager" || w == b"monitor"));
    }

    // Restored into a new data folder: the same entries, the newest values.
    let target = Target::open(
        &TargetConfig::Folder {
            path: folder.clone(),
        },
        &sealer(),
    )?;
    let new_ldk = dir.path().join("new-ldk");
    let restored = restore_node_state(&new_ldk, &target, &sealer()).await?;
    assert_eq!((restored.entries, restored.channel_monitors), (2, 1));
    let running = start(&new_ldk, &folder)?;
    assert_eq!(
        KVStoreSync::read(&*running.store, "", "", "manager").expect("manager"),
        b"manager v2"
    );
    assert_eq!(
        KVStoreSync::read(&*running.store, "monitors", "", "abc_0").expect("monitor"),
        b"monitor one"
    );
    // Nothing to send again: the restore recorded what the target holds.
    up_to_date(&running).await;
    running.stop(Duration::from_secs(5));

    // Other words find nothing there, and say so; the same words into a used folder: refused.
    let other = Sealer::from_seed(&[4u8; 64]);
    let elsewhere = Target::open(&TargetConfig::Folder { path: folder }, &other)?;
    let e = restore_node_state(&dir.path().join("other"), &elsewhere, &other)
        .await
        .expect_err("nothing to restore");
    assert!(
        e.to_string()
            .contains("holds no backup for these recovery words"),
        "{e}"
    );
    assert!(!dir
        .path()
        .join("other")
        .join("ldk_node_data.sqlite")
        .exists());
    assert!(restore_node_state(&new_ldk, &target, &sealer())
        .await
        .is_err());
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absent_target_leaves_writes_local_shows_the_gap_and_catches_up() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tempdir", e))?;
    let (ldk, folder) = (dir.path().join("ldk"), dir.path().join("usb"));
    // The drive is "unplugged": a file stands where its folder should be.
    std::fs::write(&folder, b"not a folder").map_err(|e| crate::Error::io("block", e))?;
    let running = start(&ldk, &folder)?;
    let started = Instant::now();
    write(&running, "", "", "manager", b"m1");
    write(&running, "monitors", "", "abc_0", b"mon1");
    write(&running, "monitors", "", "abc_0", b"mon2");
    // The writes returned without the target (well within one wait), and the gap is shown.
    assert!(started.elapsed() < mirror::WAIT + Duration::from_secs(2));
    until("the gap and its reason to show", || {
        let status = running.mirror.status();
        status.state == BackupState::Behind && status.last_error.is_some()
    })
    .await;
    let status = running.mirror.status();
    assert!(status.behind_since.is_some(), "{status:?}");
    assert_eq!(status.pending_changes, 2, "one per entry: {status:?}");
    assert!(
        status
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("backup folder")),
        "{status:?}"
    );
    // The node reads its own newest state all along.
    assert_eq!(
        KVStoreSync::read(&*running.store, "monitors", "", "abc_0").expect("read"),
        b"mon2"
    );

    // Stopped while behind (a quit, or a crash): nothing queued is lost.
    running.stop(Duration::ZERO);
    drop(running);
    std::fs::remove_file(&folder).map_err(|e| crate::Error::io("unblock", e))?;
    let running = start(&ldk, &folder)?;
    up_to_date(&running).await;
    assert_eq!(running.mirror.status().pending_changes, 0);
    assert!(running.mirror.status().last_backup_at.is_some());
    running.stop(Duration::from_secs(5));
    drop(running);
    let target = Target::open(&TargetConfig::Folder { path: folder }, &sealer())?;
    let new_ldk = dir.path().join("new");
    restore_node_state(&new_ldk, &target, &sealer()).await?;
    let running = start(&new_ldk, &dir.path().join("elsewhere"))?;
    assert_eq!(
        KVStoreSync::read(&*running.store, "monitors", "", "abc_0").expect("restored"),
        b"mon2"
    );
    running.stop(Duration::ZERO);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_returns_mid_run_is_caught_up_without_a_restart() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tempdir", e))?;
    let (ldk, folder) = (dir.path().join("ldk"), dir.path().join("nas"));
    let running = start(&ldk, &folder)?;
    up_to_date(&running).await;
    write(&running, "", "", "manager", b"m1");
    // The share goes away: its folder becomes a file.
    let store_dir = folder.join(sealer().store_id());
    std::fs::remove_dir_all(&folder).map_err(|e| crate::Error::io("unmount", e))?;
    std::fs::write(&folder, b"gone").map_err(|e| crate::Error::io("unmount", e))?;
    write(&running, "", "", "manager", b"m2");
    until("the gap", || {
        running.mirror.status().state == BackupState::Behind
    })
    .await;
    std::fs::remove_file(&folder).map_err(|e| crate::Error::io("mount", e))?;
    up_to_date(&running).await;
    assert_eq!(
        std::fs::read_dir(&store_dir)
            .map(|d| d.count())
            .unwrap_or(0),
        1
    );
    running.stop(Duration::ZERO);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_ran_is_never_started_empty_when_its_store_is_gone() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tempdir", e))?;
    let ldk = dir.path().join("ldk");
    let folder = |name: &str| -> Result<Target> {
        Target::open(
            &TargetConfig::Folder {
                path: dir.path().join(name),
            },
            &sealer(),
        )
    };
    // A new wallet with an empty (or absent) target: nothing to bring back, it starts.
    assert_eq!(
        bring_back_missing_store(&ldk, &folder("empty")?, &sealer(), false).await?,
        None
    );
    // A wallet that ran, or was restored from its words: an empty target is refused, saying why.
    let e = bring_back_missing_store(&ldk, &folder("empty")?, &sealer(), true)
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("is not started empty"), "{e}");
    // And so is a target that cannot be asked (a file where the folder should be).
    std::fs::write(dir.path().join("blocked-parent"), b"x")
        .map_err(|e| crate::Error::io("w", e))?;
    let unreachable = Target::open(
        &TargetConfig::Folder {
            path: dir.path().join("blocked-parent"),
        },
        &sealer(),
    )?;
    let e = bring_back_missing_store(&ldk, &unreachable, &sealer(), true)
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("could not be asked"), "{e}");
    assert!(!ldk.join("ldk_node_data.sqlite").exists(), "nothing made");

    // With a backup there, it comes back; with the store present, nothing is touched.
    let running = start(&dir.path().join("first"), &dir.path().join("nas"))?;
    write(&running, "monitors", "", "abc_0", b"monitor");
    running.stop(Duration::from_secs(5));
    drop(running);
    let back = bring_back_missing_store(&ldk, &folder("nas")?, &sealer(), true).await?;
    assert_eq!(back.map(|r| r.channel_monitors), Some(1));
    assert_eq!(
        bring_back_missing_store(&ldk, &folder("empty")?, &sealer(), true).await?,
        None
    );
    Ok(())
}

/// A target that lost what it had confirmed (a new disk in the NAS, a server restored from an
/// old dump) gets every entry again at the next start, not a status that says up to date.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wiped_target_gets_everything_again_at_the_next_start() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| crate::Error::io("tempdir", e))?;
    let (ldk, folder) = (dir.path().join("ldk"), dir.path().join("nas"));
    let running = start(&ldk, &folder)?;
    up_to_date(&running).await;
    write(&running, "", "", "manager", b"manager v1");
    write(&running, "monitors", "", "abc_0", b"monitor one");
    running.stop(Duration::from_secs(5));
    drop(running);
    std::fs::remove_dir_all(&folder).map_err(|e| crate::Error::io("wipe", e))?;

    let running = start(&ldk, &folder)?;
    up_to_date(&running).await;
    running.stop(Duration::from_secs(5));
    drop(running);
    let target = Target::open(&TargetConfig::Folder { path: folder }, &sealer())?;
    let restored = restore_node_state(&dir.path().join("new-ldk"), &target, &sealer()).await?;
    assert_eq!((restored.entries, restored.channel_monitors), (2, 1));
    Ok(())
}
