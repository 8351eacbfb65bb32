//! The shop data's backup against a real folder target: rows journaled by the triggers reach the
//! target as segments, a restore rebuilds the same database from the base and the segments, a
//! start without the journal sends a new base, and a target that goes away holds nothing back.

use std::path::Path;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::shop::{self, ShopBackup};
use super::*;
use crate::error::{Error, Result};
use crate::store::Store;

fn sealer() -> Sealer {
    Sealer::from_seed(&[5u8; 64])
}

fn folder_target(folder: &Path) -> Result<Target> {
    Target::open(
        &TargetConfig::Folder {
            path: folder.to_path_buf(),
        },
        &sealer(),
    )
}

struct Shop {
    store: Store,
    backup: std::sync::Arc<ShopBackup>,
    stop: CancellationToken,
    worker: tokio::task::JoinHandle<()>,
}

async fn start(data: &Path, folder: &Path) -> Result<Shop> {
    let store = Store::open(&data.join("payaiml.sqlite")).await?;
    shop::prepare(&store, true).await?;
    let secrets: shop::SecretsSource = std::sync::Arc::new(|| {
        Box::pin(async {
            Ok(std::collections::BTreeMap::from([(
                "api-key/k1".to_string(),
                "pk_secret".to_string(),
            )]))
        })
    });
    let stop = CancellationToken::new();
    let (backup, work) = shop::start(
        store.clone(),
        secrets,
        data,
        folder_target(folder)?,
        sealer(),
        stop.clone(),
    );
    Ok(Shop {
        store,
        backup,
        stop,
        worker: tokio::spawn(work),
    })
}

impl Shop {
    async fn up_to_date(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        // Up to date, and nothing journaled is left (a change made just now is picked up at the
        // next poll).
        loop {
            let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM backup_journal")
                .fetch_one(self.store.pool())
                .await
                .expect("count");
            if pending == 0 && self.backup.status().state == BackupState::UpToDate {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "not up to date: {:?}",
                self.backup.status()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        let _ = self.worker.await;
        self.store.close().await;
    }
}

async fn exec(store: &Store, sql: &str) {
    sqlx::query(sql)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The tables a restore must bring back, as text, for comparison.
async fn dump(path: &Path) -> Vec<String> {
    let store = Store::open(path).await.expect("open");
    let mut out = Vec::new();
    for (table, order) in [
        ("settings", "name"),
        ("api_keys", "id"),
        ("invoices", "seq"),
        ("events", "seq"),
        ("catalog_items", "seq"),
    ] {
        let columns: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(table)
                .fetch_all(store.pool())
                .await
                .expect("columns");
        let row = columns
            .iter()
            .map(|(c,)| format!("quote(\"{c}\")"))
            .collect::<Vec<_>>()
            .join(" || '|' || ");
        let rows: Vec<(String,)> =
            sqlx::query_as(&format!("SELECT {row} FROM {table} ORDER BY {order}"))
                .fetch_all(store.pool())
                .await
                .expect("rows");
        out.extend(rows.into_iter().map(|(r,)| format!("{table}: {r}")));
    }
    store.close().await;
    out.retain(|r| !r.starts_with("settings: 'instance_id'"));
    out
}

async fn add_invoice(store: &Store, n: i64) {
    exec(
        store,
        &format!(
            "INSERT INTO invoices (id, payment_hash, amount_msat, description, payment_request, expiry, expires_at, created_at, status) \
             VALUES ('inv_{n}', 'hash{n}', {}, 'sale {n}', 'lnbcrt{n}', 3600, 0, {n}, 'pending')",
            n * 1000
        ),
    )
    .await;
    exec(
        store,
        &format!(
            "INSERT INTO events (id, type, payload, dedupe_key, created_at) VALUES ('evt_{n}', 'invoice.created', '{{}}', 'd{n}', {n})"
        ),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_reach_the_folder_and_a_restore_rebuilds_the_same_database() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let (data, nas) = (dir.path().join("shop"), dir.path().join("nas"));
    std::fs::create_dir_all(&data).map_err(|e| Error::io("mkdir", e))?;
    let shop = start(&data, &nas).await?;
    shop.up_to_date().await;

    for n in 1..=50 {
        add_invoice(&shop.store, n).await;
    }
    exec(
        &shop.store,
        "UPDATE invoices SET status = 'paid', paid_at = 7 WHERE id = 'inv_3'",
    )
    .await;
    exec(&shop.store, "DELETE FROM events WHERE id = 'evt_4'").await;
    exec(
        &shop.store,
        "INSERT INTO catalog_items (id, name, price, currency, position, image, image_type, created_at, updated_at) \
         VALUES ('item_1', 'Espresso', '2.50', 'EUR', 0, x'89504e470d0a1a0a00ff', 'image/png', 1, 1)",
    )
    .await;
    shop.store.set_setting("currency", "EUR").await?;
    shop.up_to_date().await;

    // The recovery point, measured on the target itself: from a change's commit to the segment
    // that holds it landing in the folder (only this worker writes there).
    let objects = || {
        std::fs::read_dir(nas.join(sealer().store_id()))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    let mut points = Vec::new();
    for n in 100..105 {
        let before = objects();
        let committed = Instant::now();
        add_invoice(&shop.store, n).await;
        while objects() == before {
            assert!(committed.elapsed() < Duration::from_secs(30), "no segment");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        points.push(committed.elapsed());
        shop.up_to_date().await;
    }
    eprintln!("shop data on the folder after each change: {points:.0?}");
    for n in 100..105 {
        exec(
            &shop.store,
            &format!("DELETE FROM invoices WHERE id = 'inv_{n}'"),
        )
        .await;
        exec(
            &shop.store,
            &format!("DELETE FROM events WHERE id = 'evt_{n}'"),
        )
        .await;
    }
    shop.up_to_date().await;
    let status = shop.backup.status();
    assert!(status.last_backup_at.is_some(), "{status:?}");
    let before = dump(&data.join("payaiml.sqlite")).await;
    assert!(before.iter().any(|r| r.contains("'inv_50'")));

    let restored = dir.path().join("restored.sqlite");
    let fetched = shop::fetch(&folder_target(&nas)?, &sealer(), &restored)
        .await?
        .ok_or_else(|| Error::Backup("nothing fetched".into()))?;
    assert_eq!(fetched.restored.invoices, 50);
    assert_eq!(
        fetched.secrets.get("api-key/k1").map(String::as_str),
        Some("pk_secret"),
        "the secrets the data uses"
    );
    assert!(fetched.restored.segments >= 1, "{:?}", fetched.restored);
    assert_eq!(dump(&restored).await, before, "the same rows");

    // Nothing another set of words can open.
    let other = Sealer::from_seed(&[6u8; 64]);
    let elsewhere = Target::open(&TargetConfig::Folder { path: nas.clone() }, &other)?;
    assert!(
        shop::fetch(&elsewhere, &other, &dir.path().join("x.sqlite"))
            .await?
            .is_none()
    );

    // A later start whose triggers were gone (a start without a target in between) sends a new
    // base, and the segments the old base held are removed.
    shop.stop().await;
    let store = Store::open(&data.join("payaiml.sqlite")).await?;
    shop::prepare(&store, false).await?;
    exec(
        &store,
        "UPDATE invoices SET description = 'changed unjournaled' WHERE id = 'inv_1'",
    )
    .await;
    store.close().await;
    let shop = start(&data, &nas).await?;
    shop.up_to_date().await;
    add_invoice(&shop.store, 51).await;
    shop.up_to_date().await;
    let before = dump(&data.join("payaiml.sqlite")).await;
    shop.stop().await;
    let again = dir.path().join("again.sqlite");
    let fetched = shop::fetch(&folder_target(&nas)?, &sealer(), &again)
        .await?
        .ok_or_else(|| Error::Backup("nothing fetched".into()))?;
    assert_eq!(fetched.restored.invoices, 51);
    let after = dump(&again).await;
    assert!(after.iter().any(|r| r.contains("changed unjournaled")));
    assert_eq!(after, before);
    let files = std::fs::read_dir(nas.join(sealer().store_id()))
        .map_err(|e| Error::io("list", e))?
        .count();
    // The manifest, one base part, the secrets and the one segment after the base.
    assert!(files <= 4, "old objects removed: {files}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_that_goes_away_keeps_changes_in_the_journal_until_it_returns() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let (data, usb) = (dir.path().join("shop"), dir.path().join("usb"));
    std::fs::create_dir_all(&data).map_err(|e| Error::io("mkdir", e))?;
    let shop = start(&data, &usb).await?;
    shop.up_to_date().await;
    // The drive is pulled: its folder is now a file, so nothing can be written there.
    let away = dir.path().join("usb-away");
    std::fs::rename(&usb, &away).map_err(|e| Error::io("rename", e))?;
    std::fs::write(&usb, b"not a folder").map_err(|e| Error::io("write", e))?;
    add_invoice(&shop.store, 1).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while shop.backup.status().state != BackupState::Behind
        || shop.backup.status().pending_changes < 2
    {
        assert!(Instant::now() < deadline, "{:?}", shop.backup.status());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = shop.backup.status();
    assert!(
        status.behind_since.is_some() && status.last_error.is_some(),
        "{status:?}"
    );
    // The drive is back: everything goes, by itself.
    std::fs::remove_file(&usb).map_err(|e| Error::io("rm", e))?;
    std::fs::rename(&away, &usb).map_err(|e| Error::io("rename", e))?;
    shop.up_to_date().await;
    assert_eq!(shop.backup.status().behind_since, None);
    shop.stop().await;
    let fetched = shop::fetch(
        &folder_target(&usb)?,
        &sealer(),
        &dir.path().join("r.sqlite"),
    )
    .await?
    .ok_or_else(|| Error::Backup("nothing fetched".into()))?;
    assert_eq!(fetched.restored.invoices, 1);
    Ok(())
}

/// A database larger than one part (8 MB) goes as several parts and comes back whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_base_of_several_parts_comes_back_whole() -> Result<()> {
    let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let (data, nas) = (dir.path().join("shop"), dir.path().join("nas"));
    std::fs::create_dir_all(&data).map_err(|e| Error::io("mkdir", e))?;
    let store = Store::open(&data.join("payaiml.sqlite")).await?;
    // A 9 MB picture, made before the backup is on: it goes in the first base.
    let picture: Vec<u8> = (0..9 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    sqlx::query(
        "INSERT INTO catalog_items (id, name, price, currency, position, image, image_type, created_at, updated_at) \
         VALUES ('item_big', 'Poster', '20', 'EUR', 0, ?, 'image/png', 1, 1)",
    )
    .bind(&picture)
    .execute(store.pool())
    .await?;
    store.close().await;
    let shop = start(&data, &nas).await?;
    shop.up_to_date().await;
    shop.stop().await;
    let restored = dir.path().join("restored.sqlite");
    shop::fetch(&folder_target(&nas)?, &sealer(), &restored)
        .await?
        .ok_or_else(|| Error::Backup("nothing fetched".into()))?;
    let store = Store::open(&restored).await?;
    let back: Vec<u8> = sqlx::query_scalar("SELECT image FROM catalog_items WHERE id = 'item_big'")
        .fetch_one(store.pool())
        .await?;
    store.close().await;
    assert!(back == picture, "the picture came back byte for byte");
    let parts = std::fs::read_dir(nas.join(sealer().store_id()))
        .map_err(|e| Error::io("list", e))?
        .count();
    assert!(
        parts >= 4,
        "a manifest, the secrets and at least two parts: {parts}"
    );
    Ok(())
}
