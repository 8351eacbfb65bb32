-- What the node knew, when an invoice was made, that could keep it from being paid (a JSON array
-- of {code, message}): today, more than its channels can receive in one payment.
ALTER TABLE invoices ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
