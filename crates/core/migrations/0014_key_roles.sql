-- What a key is to the app itself: the dashboard's admin key, the locked counter's cashier key, or
-- a customer display's key (`NULL`: a key made by a person). No other key may reveal these, and
-- only the admin key may revoke the cashier's and the displays' (see keys::ApiKey::may_manage_key).
ALTER TABLE api_keys ADD COLUMN role TEXT;
UPDATE api_keys SET role = 'admin'
 WHERE id IN (SELECT value FROM settings WHERE name = 'admin_key_id');
UPDATE api_keys SET role = 'cashier'
 WHERE id IN (SELECT value FROM settings WHERE name = 'cashier_key_id');
-- Paired displays and the desktop's display window hold `display:read` alone.
UPDATE api_keys SET role = 'display' WHERE role IS NULL AND permissions = 'display:read';
