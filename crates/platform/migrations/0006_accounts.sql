-- Accounts to 等保 level 3: a forced password change at next sign-in, and
-- the session's last activity for the idle timeout (NULL = its created_at).
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ADD COLUMN last_seen TEXT;
