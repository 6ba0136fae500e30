-- The audit chain's hash format and key. Chains written so far are plain
-- SHA-256; SQL cannot compute the keyed HMAC (the key is not in the
-- database), so `audit::upgrade_chain` verifies and re-keys them on open and
-- sets 'hmac-sha256' and the id of the key (a MAC of a fixed text, which
-- reveals nothing of the key).
ALTER TABLE audit_head ADD COLUMN format TEXT NOT NULL DEFAULT 'sha256';
ALTER TABLE audit_head ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
