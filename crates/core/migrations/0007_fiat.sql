-- The merchant's currency at the time of each invoice and payment: the rate it was made at
-- (units per BTC, a decimal string), the providers it came from (comma-separated), when it was
-- fetched, and for an invoice priced in that currency the price as asked (a decimal string).
-- NULL when the merchant counted in sats only then, or no rate was fresh.
ALTER TABLE invoices ADD COLUMN fiat_currency TEXT;
ALTER TABLE invoices ADD COLUMN fiat_rate TEXT;
ALTER TABLE invoices ADD COLUMN fiat_sources TEXT;
ALTER TABLE invoices ADD COLUMN fiat_rate_at INTEGER;
ALTER TABLE invoices ADD COLUMN fiat_price TEXT;
ALTER TABLE payments ADD COLUMN fiat_currency TEXT;
ALTER TABLE payments ADD COLUMN fiat_rate TEXT;
ALTER TABLE payments ADD COLUMN fiat_sources TEXT;
ALTER TABLE payments ADD COLUMN fiat_rate_at INTEGER;
-- Sales by day and the transactions report read paid invoices and payments by time.
CREATE INDEX invoices_paid_at ON invoices (paid_at) WHERE status = 'paid';
CREATE INDEX payments_created_at ON payments (created_at);
