-- 困难职工帮扶: hardship files (one per household), their household members,
-- the local 低保 lines the income test compares with, campaigns with their
-- allocations down the tree, and disbursement batches with their lines.
-- Every table carries `org_id` and the org's `region_root` (the future
-- shard key). Money is BIGINT fen; dates ISO text; instants RFC 3339 UTC.

-- The monthly 低保 line of a county (or industry) region for a year, and the
-- multiples (in percent) under which a household is 深度困难 / 相对困难.
-- `region_org_id` is the region root org (a county or industry union), or
-- the city root as the default for regions without their own line.
CREATE TABLE hardship_lines (
    region_org_id BIGINT NOT NULL REFERENCES orgs(id),
    year BIGINT NOT NULL,
    line_fen BIGINT NOT NULL,
    deep_pct BIGINT NOT NULL,
    relative_pct BIGINT NOT NULL,
    updated_by BIGINT REFERENCES users(id),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (region_org_id, year)
);

CREATE TABLE hardship_files (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    -- The household head, a person reference (platform::person).
    person_ref_id BIGINT NOT NULL REFERENCES person_refs(id),
    -- The head's keyed ID hash (person_refs.id_hash): one open file per person.
    id_hash TEXT NOT NULL,
    head_name TEXT NOT NULL,
    -- deep | relative | sudden (深度困难 / 相对困难 / 意外致困)
    category TEXT NOT NULL,
    -- What the income test offered; differs from category only with a reason.
    offered_category TEXT,
    override_reason TEXT NOT NULL DEFAULT '',
    primary_cause TEXT NOT NULL,
    -- Up to three, comma-separated keys.
    secondary_causes TEXT NOT NULL DEFAULT '',
    year BIGINT NOT NULL,
    household_size BIGINT NOT NULL,
    -- Monthly household income and per-capita income, fen.
    income_fen BIGINT NOT NULL,
    per_capita_fen BIGINT NOT NULL,
    line_fen BIGINT NOT NULL,
    housing TEXT NOT NULL DEFAULT '',
    employer_status TEXT NOT NULL DEFAULT '',
    zero_employment BIGINT NOT NULL DEFAULT 0,
    single_parent BIGINT NOT NULL DEFAULT 0,
    bank_name TEXT NOT NULL DEFAULT '',
    -- AES-GCM sealed account number and its masked form (last 4 kept).
    bank_account_enc TEXT,
    bank_account_masked TEXT NOT NULL DEFAULT '',
    -- reviewing | notice (公示) | open | rejected | closed
    status TEXT NOT NULL,
    review_id BIGINT,
    notice_until TEXT,
    confirmed_on TEXT,
    last_checked_on TEXT,
    closed_on TEXT,
    close_reason TEXT NOT NULL DEFAULT '',
    close_measure TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One open file per person instance-wide (closed and rejected files stay).
CREATE UNIQUE INDEX hardship_files_open_person ON hardship_files(id_hash)
    WHERE status <> 'closed' AND status <> 'rejected';
CREATE INDEX hardship_files_org ON hardship_files(org_id, status);

CREATE TABLE hardship_members (
    id ID_PK,
    region_root BIGINT,
    file_id BIGINT NOT NULL REFERENCES hardship_files(id),
    name TEXT NOT NULL,
    relation TEXT NOT NULL,
    income_fen BIGINT NOT NULL,
    health TEXT NOT NULL DEFAULT '',
    disability TEXT NOT NULL DEFAULT '',
    insurance TEXT NOT NULL DEFAULT '',
    schooling TEXT NOT NULL DEFAULT ''
);
CREATE INDEX hardship_members_file ON hardship_members(file_id);

-- Objections raised during the public notice (公示).
CREATE TABLE hardship_objections (
    id ID_PK,
    region_root BIGINT,
    file_id BIGINT NOT NULL REFERENCES hardship_files(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    content TEXT NOT NULL,
    resolution TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX hardship_objections_file ON hardship_objections(file_id);

-- 年审: one row per file checked, with the year's draw.
CREATE TABLE hardship_checks (
    id ID_PK,
    region_root BIGINT,
    file_id BIGINT NOT NULL REFERENCES hardship_files(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    year BIGINT NOT NULL,
    sampled BIGINT NOT NULL DEFAULT 0,
    -- pending | qualifies | closed
    outcome TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    checked_by BIGINT REFERENCES users(id),
    checked_at TEXT
);
CREATE UNIQUE INDEX hardship_checks_file_year ON hardship_checks(file_id, year);

-- Campaigns: 送温暖, 金秋助学, 夏送清凉, 春送岗位, 日常救助, special ones.
CREATE TABLE hardship_campaigns (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    -- warmth | education | summer | jobs | daily | special
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on TEXT NOT NULL,
    -- The standard amount per person; above it only with an exception reason.
    standard_fen BIGINT NOT NULL,
    budget_fen BIGINT NOT NULL,
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX hardship_campaigns_org ON hardship_campaigns(org_id);

-- The budget handed down the tree: the campaign's org holds the whole
-- budget; an org below holds what its nearest allocated ancestor gave it.
-- `allocated_fen` is what it handed further down, `committed_fen` what the
-- applications it funds (its own and those of unions below it without an
-- allocation of their own) ask for, under review, approved or paid.
-- allocated + committed <= amount: both are raised by conditional UPDATEs
-- (`… AND allocated + committed + $n <= amount_fen`), so no race passes it.
CREATE TABLE hardship_allocations (
    campaign_id BIGINT NOT NULL REFERENCES hardship_campaigns(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    amount_fen BIGINT NOT NULL,
    allocated_fen BIGINT NOT NULL DEFAULT 0,
    committed_fen BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, org_id)
);

-- An application: one person or thousands, walking the review chain as one.
CREATE TABLE hardship_batches (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    campaign_id BIGINT NOT NULL REFERENCES hardship_campaigns(id),
    title TEXT NOT NULL,
    people BIGINT NOT NULL,
    total_fen BIGINT NOT NULL,
    exceptions BIGINT NOT NULL DEFAULT 0,
    -- The allocation it spends (the nearest allocated ancestor-or-self).
    holder_org_id BIGINT NOT NULL REFERENCES orgs(id),
    -- draft | reviewing | approved | rejected | paid
    status TEXT NOT NULL,
    review_id BIGINT,
    paid_on TEXT,
    pay_method TEXT NOT NULL DEFAULT '',
    handler TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX hardship_batches_org ON hardship_batches(org_id, campaign_id);

CREATE TABLE hardship_grants (
    id ID_PK,
    region_root BIGINT,
    batch_id BIGINT NOT NULL REFERENCES hardship_batches(id),
    campaign_id BIGINT NOT NULL REFERENCES hardship_campaigns(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    -- The person's keyed ID hash: nobody helped twice in one campaign.
    id_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    file_id BIGINT REFERENCES hardship_files(id),
    amount_fen BIGINT NOT NULL,
    exception_reason TEXT NOT NULL DEFAULT '',
    school TEXT NOT NULL DEFAULT '',
    -- reviewing | approved | rejected | paid
    status TEXT NOT NULL,
    paid_on TEXT
);
-- 重复救助: one live grant per person per campaign, instance-wide.
CREATE UNIQUE INDEX hardship_grants_once ON hardship_grants(campaign_id, id_hash)
    WHERE status <> 'rejected';
CREATE INDEX hardship_grants_batch ON hardship_grants(batch_id);
CREATE INDEX hardship_grants_org_paid ON hardship_grants(org_id, paid_on);
