-- 走访慰问 (visits) and 春送岗位 (job fairs) as records of their own.
-- Re-runnable (IF NOT EXISTS): an older database gets them on upgrade.

-- A worksite visited (建筑工地, 企业, 事业单位 …), kept per visiting union:
-- visited twice, it is one worksite (same name, spaces and case ignored).
CREATE TABLE IF NOT EXISTS hardship_worksites (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    -- site | enterprise | institution | other
    kind TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS hardship_worksites_key ON hardship_worksites(org_id, name_key);

-- One visit: by a union (org_id) on a date, perhaps within a campaign, to
-- exactly one target: a household (a hardship file), a person (a person
-- reference) or a worksite. `people` is what the visit adds to 慰问困难职工
-- 人次 (a household visit: the persons met, at least 1; a person visit: 1;
-- a worksite: 0); `workers` the workers greeted at a worksite (慰问职工人次).
CREATE TABLE IF NOT EXISTS hardship_visits (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    visited_on TEXT NOT NULL,
    visitors TEXT NOT NULL,
    campaign_id BIGINT REFERENCES hardship_campaigns(id),
    -- A campaign kind (warmth, summer …) or '' for an everyday visit.
    occasion TEXT NOT NULL DEFAULT '',
    -- household | person | worksite
    target TEXT NOT NULL,
    file_id BIGINT REFERENCES hardship_files(id),
    person_ref_id BIGINT REFERENCES person_refs(id),
    worksite_id BIGINT REFERENCES hardship_worksites(id),
    -- The persons met in a household, comma-separated names.
    persons_met TEXT NOT NULL DEFAULT '',
    people BIGINT NOT NULL DEFAULT 0,
    workers BIGINT NOT NULL DEFAULT 0,
    money_fen BIGINT NOT NULL DEFAULT 0,
    goods TEXT NOT NULL DEFAULT '',
    goods_fen BIGINT NOT NULL DEFAULT 0,
    note TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hardship_visits_org ON hardship_visits(org_id, visited_on);
CREATE INDEX IF NOT EXISTS hardship_visits_file ON hardship_visits(file_id);

-- 春送岗位: a job fair held by a union (org_id), its employers and results.
CREATE TABLE IF NOT EXISTS hardship_fairs (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    held_on TEXT NOT NULL,
    name TEXT NOT NULL,
    place TEXT NOT NULL,
    -- spring (春风行动) | online (线上) | onsite (现场) | special (专场)
    kind TEXT NOT NULL,
    campaign_id BIGINT REFERENCES hardship_campaigns(id),
    -- The sum of the employers' posts, kept with them.
    posts BIGINT NOT NULL DEFAULT 0,
    -- People who found work through the fair (就业人数).
    placed BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS hardship_fairs_org ON hardship_fairs(org_id, held_on);

CREATE TABLE IF NOT EXISTS hardship_fair_employers (
    id ID_PK,
    region_root BIGINT,
    fair_id BIGINT NOT NULL REFERENCES hardship_fairs(id),
    name TEXT NOT NULL,
    credit_code TEXT NOT NULL DEFAULT '',
    -- The credit code, or the name with spaces and case ignored: one
    -- employer across fairs.
    employer_key TEXT NOT NULL,
    posts BIGINT NOT NULL DEFAULT 0,
    -- Placed with this employer, when known (counted within the fair's).
    placed BIGINT
);
CREATE INDEX IF NOT EXISTS hardship_fair_employers_fair ON hardship_fair_employers(fair_id);
