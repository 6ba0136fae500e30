-- Platform: org tree, accounts, sessions, audit log.
-- Portable SQL for SQLite and PostgreSQL. The migration runner (platform/db.rs)
-- replaces the token ID_PK with each backend's auto-increment primary key;
-- nothing else differs. Integers are BIGINT everywhere (flags are 0/1) so the
-- same decoding works on both backends; instants are RFC 3339 UTC text and
-- dates ISO text, which sort correctly as strings.

CREATE TABLE orgs (
    id ID_PK,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    short_name TEXT NOT NULL DEFAULT '',
    level TEXT NOT NULL,
    org_type TEXT NOT NULL DEFAULT '',
    parent_id BIGINT REFERENCES orgs(id),
    -- Materialised path of ids, '/1/5/23/': a subtree is one LIKE prefix scan.
    path TEXT NOT NULL,
    -- Id of the top-level region (county/industry) ancestor; the Citus shard key.
    region_root BIGINT,
    credit_code TEXT,
    region_code TEXT NOT NULL DEFAULT '',
    founded_on TEXT,
    legal_cert_no TEXT NOT NULL DEFAULT '',
    legal_cert_status TEXT NOT NULL DEFAULT 'none',
    legal_cert_on TEXT,
    term_no BIGINT,
    term_start TEXT,
    term_end TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    closed_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX orgs_path ON orgs(path);
CREATE INDEX orgs_parent ON orgs(parent_id);

-- Every change to an org (create, rename, edit, move, close): the tree's history.
CREATE TABLE org_history (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- The date the change takes effect (e.g. a certificate's issue date),
    -- which period statistics use; `at` is when it was recorded.
    effective_on TEXT NOT NULL,
    actor_id BIGINT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX org_history_org ON org_history(org_id);

CREATE TABLE users (
    id ID_PK,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    role TEXT NOT NULL,
    org_id BIGINT REFERENCES orgs(id),
    perms TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE audit_log (
    id ID_PK,
    seq BIGINT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    org_id BIGINT,
    detail TEXT NOT NULL,
    ip TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_action ON audit_log(action);

-- One row: the chain head. Updating it serialises appends on both backends.
CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
