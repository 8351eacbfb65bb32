-- An invoice made through an LSP (a just-in-time channel): the provider, the most it may keep
-- (msat, as it quoted), and what it kept once paid.
ALTER TABLE invoices ADD COLUMN lsp_node_id TEXT;
ALTER TABLE invoices ADD COLUMN lsp_max_fee_msat INTEGER;
ALTER TABLE invoices ADD COLUMN lsp_fee_msat INTEGER;
