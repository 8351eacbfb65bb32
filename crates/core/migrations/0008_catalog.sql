-- The shop's catalog: tax rates and items, and each sale's lines as charged.
-- A tax rate: a percent as a decimal string, included in prices or added on top. One may be the
-- default, which applies to items and custom amounts that name none. Archived rates stay for the
-- sales that used them (a sale keeps its own copy anyway).
CREATE TABLE catalog_taxes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    rate TEXT NOT NULL,
    inclusive INTEGER NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    archived_at INTEGER
);
-- At most one default among the rates in use.
CREATE UNIQUE INDEX catalog_taxes_one_default ON catalog_taxes (is_default)
    WHERE is_default = 1 AND archived_at IS NULL;
-- An item: its price as a decimal string in `currency` (NULL: whole sats), its tax (`default`,
-- `none` or a rate's id), its place in the grid, and an optional small picture.
CREATE TABLE catalog_items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    price TEXT NOT NULL,
    currency TEXT,
    category TEXT,
    tax TEXT NOT NULL DEFAULT 'default',
    position INTEGER NOT NULL,
    image BLOB,
    image_type TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    archived_at INTEGER
);
CREATE INDEX catalog_items_position ON catalog_items (archived_at, position);
-- A sale's lines, taxes, tip and total as charged (JSON, see catalog/order.rs): NULL for an
-- invoice made from an amount alone.
ALTER TABLE invoices ADD COLUMN order_json TEXT;
-- The dashboard's admin key holds every permission, the new `catalog:manage` too.
UPDATE api_keys SET permissions = permissions || ',catalog:manage'
 WHERE id = (SELECT value FROM settings WHERE name = 'admin_key_id')
   AND permissions NOT LIKE '%catalog:manage%';
