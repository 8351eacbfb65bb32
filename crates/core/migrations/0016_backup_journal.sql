-- The shop data's backup (crates/core/src/backup/shop.rs).
--
-- backup_journal: the primary key of every row changed since the backup last sent it, appended
-- by triggers in the same transaction as the change. The triggers exist only while a backup
-- target is set (they are made at each start from the tables of the day), so a shop without a
-- backup pays nothing and keeps no journal.
CREATE TABLE backup_journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl TEXT NOT NULL,
    pk  TEXT NOT NULL   -- a JSON array of the primary key's values
);

-- What this computer knows of the backup of its shop data: the base on the target, the bytes
-- sent since, the digest of the secrets last sent. Never backed up itself.
CREATE TABLE backup_shop (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
