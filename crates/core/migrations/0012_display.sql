-- The customer display's own permission, `display:read`: the point of sale's current sale and
-- nothing else. The dashboard's admin key holds every permission, this one too (so it can pair
-- a display and manage display keys).
UPDATE api_keys SET permissions = permissions || ',display:read'
 WHERE id = (SELECT value FROM settings WHERE name = 'admin_key_id')
   AND permissions NOT LIKE '%display:read%';
-- The desktop app's display window had a `lightning:read` key, which could read every invoice,
-- payment and the balance: a screen facing customers now holds `display:read` alone.
UPDATE api_keys SET permissions = 'display:read', name = 'Customer display (this computer)'
 WHERE id = (SELECT value FROM settings WHERE name = 'display_key_id');
