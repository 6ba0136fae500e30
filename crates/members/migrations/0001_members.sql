-- Members (会员实名制): persons, memberships and their 会籍变化 events,
-- transfers, online join requests, member cards, import jobs.
-- ID and phone numbers are stored encrypted (*_enc), looked up by keyed
-- hash (*_hash) and displayed masked (*_masked); see platform/crypto.rs.

CREATE TABLE persons (
    id ID_PK,
    name TEXT NOT NULL,
    -- Full pinyin ("zhangsan") and initials ("zs") for search.
    name_pinyin TEXT NOT NULL,
    name_initials TEXT NOT NULL,
    id_kind TEXT NOT NULL,
    id_hash TEXT NOT NULL UNIQUE,
    id_enc TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    gender TEXT NOT NULL,
    birth_date TEXT,
    phone_hash TEXT,
    phone_enc TEXT,
    phone_masked TEXT,
    nation TEXT NOT NULL DEFAULT '',
    education TEXT NOT NULL DEFAULT '',
    political TEXT NOT NULL DEFAULT '',
    hukou_type TEXT NOT NULL DEFAULT '',
    hukou_place TEXT NOT NULL DEFAULT '',
    migrant BIGINT NOT NULL DEFAULT 0,
    skill_level TEXT NOT NULL DEFAULT '',
    workplace TEXT NOT NULL DEFAULT '',
    new_employment_group TEXT NOT NULL DEFAULT '',
    -- Hash of every stored field: a re-import of the same row is "unchanged".
    row_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX persons_phone ON persons(phone_hash);
-- PATTERN_OPS: text_pattern_ops on PostgreSQL so prefix LIKE uses the
-- index; nothing on SQLite, where prefix search uses GLOB (see db.rs).
CREATE INDEX persons_name ON persons(name PATTERN_OPS);
CREATE INDEX persons_pinyin ON persons(name_pinyin PATTERN_OPS);
CREATE INDEX persons_initials ON persons(name_initials PATTERN_OPS);

CREATE TABLE memberships (
    id ID_PK,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    member_no TEXT NOT NULL UNIQUE,
    -- active | retained (保留会籍) | ended (退会 or 转出)
    status TEXT NOT NULL,
    joined_on TEXT NOT NULL,
    ended_on TEXT,
    -- When the member first signed in to the member portal (上网/激活).
    activated_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One person, one active membership across the whole instance.
CREATE UNIQUE INDEX memberships_one_active ON memberships(person_id) WHERE status <> 'ended';
CREATE INDEX memberships_org ON memberships(org_id, status);
CREATE INDEX memberships_person ON memberships(person_id);

CREATE TABLE membership_events (
    id ID_PK,
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    -- join (入会) | transfer_in (转入) | transfer_out (转出) | leave (退会) | retain (保留会籍)
    kind TEXT NOT NULL,
    on_date TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    import_job BIGINT,
    created_at TEXT NOT NULL
);
CREATE INDEX membership_events_org ON membership_events(org_id, kind, on_date);
CREATE INDEX membership_events_membership ON membership_events(membership_id);

CREATE TABLE transfers (
    id ID_PK,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    from_membership_id BIGINT NOT NULL REFERENCES memberships(id),
    from_org_id BIGINT NOT NULL REFERENCES orgs(id),
    to_org_id BIGINT NOT NULL REFERENCES orgs(id),
    -- pending | approved | rejected
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    requested_by BIGINT,
    requested_at TEXT NOT NULL,
    decided_by BIGINT,
    decided_at TEXT,
    decision_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX transfers_to ON transfers(to_org_id, status);
CREATE INDEX transfers_from ON transfers(from_org_id, status);

CREATE TABLE join_requests (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    id_kind TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    id_enc TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    phone_hash TEXT NOT NULL,
    phone_enc TEXT NOT NULL,
    phone_masked TEXT NOT NULL,
    gender TEXT NOT NULL,
    birth_date TEXT,
    workplace TEXT NOT NULL DEFAULT '',
    new_employment_group TEXT NOT NULL DEFAULT '',
    migrant BIGINT NOT NULL DEFAULT 0,
    -- pending | approved | rejected
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    membership_id BIGINT REFERENCES memberships(id),
    created_at TEXT NOT NULL,
    decided_at TEXT,
    decided_by BIGINT
);
CREATE INDEX join_requests_org ON join_requests(org_id, status);
-- The applicant's status lookup (ID hash + phone hash), and at most one
-- pending application per person (a second submit is refused, even racing).
CREATE INDEX join_requests_applicant ON join_requests(id_hash, phone_hash);
CREATE UNIQUE INDEX join_requests_one_pending ON join_requests(id_hash) WHERE status = 'pending';

CREATE TABLE cards (
    id ID_PK,
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    card_no TEXT NOT NULL UNIQUE,
    -- active | revoked
    status TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX cards_membership ON cards(membership_id);
-- One valid card per membership: reissuing revokes the old one first.
CREATE UNIQUE INDEX cards_one_active ON cards(membership_id) WHERE status = 'active';

CREATE TABLE import_jobs (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    user_id BIGINT,
    actor TEXT NOT NULL,
    file_name TEXT NOT NULL,
    all_or_nothing BIGINT NOT NULL,
    -- running | done | failed
    status TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    processed BIGINT NOT NULL DEFAULT 0,
    new_count BIGINT NOT NULL DEFAULT 0,
    updated_count BIGINT NOT NULL DEFAULT 0,
    unchanged_count BIGINT NOT NULL DEFAULT 0,
    rejected_count BIGINT NOT NULL DEFAULT 0,
    rejects_file TEXT,
    error TEXT,
    created_at TEXT NOT NULL,
    finished_at TEXT
);

-- Instance settings (retirement ages, …), key → value.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
-- Counters for member and card numbers, reserved in blocks by UPDATE … RETURNING.
INSERT INTO settings (key, value) VALUES ('seq.member_no', '0');
INSERT INTO settings (key, value) VALUES ('seq.card_no', '0');
INSERT INTO settings (key, value) VALUES ('retirement.male', '60');
INSERT INTO settings (key, value) VALUES ('retirement.female', '55');
