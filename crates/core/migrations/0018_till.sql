-- The till: the people who serve at the counter, their shifts, sales paid in cash or by card,
-- and the receipt printers with their print queue (see crates/core/src/till/).

-- A cashier: a name and their own PIN (an Argon2id PHC string), with the same limits on wrong
-- PINs as the owner's (the count and the wait are kept here, so a restart does not reset them).
-- Removed cashiers are archived: their sales keep naming them.
CREATE TABLE staff (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    pin_hash TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    retry_at INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    archived_at INTEGER
);

-- A shift of the till's cash drawer: opened with a float, closed with the cash counted. At most
-- one is open. Amounts are decimal strings in `currency` (the merchant's currency when opened).
-- `opened_by` / `closed_by`: a staff id, NULL for the owner. `report` is the Z-report as closed
-- (JSON), kept as printed.
CREATE TABLE shifts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    currency TEXT NOT NULL,
    float TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    opened_by TEXT,
    closed_at INTEGER,
    closed_by TEXT,
    counted TEXT,
    note TEXT,
    report TEXT
);
CREATE UNIQUE INDEX shifts_one_open ON shifts ((closed_at IS NULL)) WHERE closed_at IS NULL;

-- Who took a till sale paid over Bitcoin (an invoice) or refunded one (a payment), and in which
-- shift; written in the same transaction as the invoice or the refund's record. `staff_id` NULL
-- is the owner.
CREATE TABLE till_stamps (
    subject_id TEXT PRIMARY KEY NOT NULL,
    staff_id TEXT,
    shift_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX till_stamps_shift ON till_stamps (shift_id);

-- A sale paid in cash or by card (an outside terminal). Its cart as charged (`order_json`, the
-- same JSON as an invoice's), its total in `currency`, its worth in sats at the rate of the
-- moment (NULL without a fresh rate), the cash handed over and the change, the card terminal's
-- reference. `refunded` is a decimal string raised by each refund.
CREATE TABLE till_sales (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tender TEXT NOT NULL CHECK (tender IN ('cash', 'card')),
    currency TEXT NOT NULL,
    order_json TEXT NOT NULL,
    total TEXT NOT NULL,
    amount_msat INTEGER,
    rate TEXT,
    rate_sources TEXT,
    rate_at INTEGER,
    cash_received TEXT,
    change TEXT,
    reference TEXT,
    staff_id TEXT,
    shift_id TEXT,
    key_id TEXT,
    refunded TEXT NOT NULL DEFAULT '0',
    created_at INTEGER NOT NULL
);
CREATE INDEX till_sales_created ON till_sales (created_at);
CREATE INDEX till_sales_shift ON till_sales (shift_id);

-- Each refund of a cash or card sale: money handed back, from the drawer or on the terminal.
CREATE TABLE till_refunds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    sale_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    reason TEXT,
    staff_id TEXT,
    shift_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX till_refunds_sale ON till_refunds (sale_id);
CREATE INDEX till_refunds_created ON till_refunds (created_at);

-- A receipt (or kitchen) printer speaking ESC/POS: on the network (raw TCP) or a device file.
CREATE TABLE printers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    connection TEXT NOT NULL,            -- JSON: {"type":"network","host","port"} | {"type":"usb","path"}
    paper TEXT NOT NULL CHECK (paper IN ('58mm', '80mm')),
    role TEXT NOT NULL CHECK (role IN ('receipt', 'kitchen')),
    auto_print INTEGER NOT NULL DEFAULT 0,
    cash_drawer INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    archived_at INTEGER
);

-- The print queue: what is owed to a printer, written in the transaction that makes it owed (a
-- sale's payment, a cash sale), so a crash loses no receipt. Printed jobs stay for the record.
CREATE TABLE print_jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    printer_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('receipt', 'kitchen', 'test', 'drawer', 'z_report')),
    subject TEXT,
    drawer INTEGER NOT NULL DEFAULT 0,   -- open the cash drawer with it
    state TEXT NOT NULL CHECK (state IN ('queued', 'printed', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    printed_at INTEGER
);
CREATE INDEX print_jobs_due ON print_jobs (state, next_attempt_at);
CREATE INDEX print_jobs_printer ON print_jobs (printer_id, seq);
