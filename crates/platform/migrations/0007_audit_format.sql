-- The audit chain's hash format. Chains written so far are plain SHA-256;
-- SQL cannot compute the keyed HMAC (the key is not in the database), so
-- `audit::upgrade_chain` re-keys them on open, after verifying them, and
-- sets 'hmac-sha256'.
ALTER TABLE audit_head ADD COLUMN format TEXT NOT NULL DEFAULT 'sha256';
