-- 职工人数: the workforce of the unit a grassroots union is founded in —
-- workers, women workers, 农民工 — recorded as of a date, as the roster is.
-- A history: the figure for a period is each union's latest value as of the
-- period's end. One value per union and date (recording the same date again
-- replaces it). Carries region_root (the future shard key, see
-- ARCHITECTURE.md "Past one PostgreSQL").
CREATE TABLE org_workforce (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    as_of TEXT NOT NULL,
    workforce BIGINT NOT NULL,
    women BIGINT NOT NULL,
    migrant BIGINT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    recorded_by BIGINT,
    recorded_at TEXT NOT NULL
);
CREATE UNIQUE INDEX org_workforce_key ON org_workforce(org_id, as_of);
