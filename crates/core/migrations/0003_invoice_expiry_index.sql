-- The expiry task asks for the earliest pending expiry at every new invoice: keep that an index
-- lookup however many invoices there are.
CREATE INDEX invoices_pending_expiry ON invoices (status, expires_at);
