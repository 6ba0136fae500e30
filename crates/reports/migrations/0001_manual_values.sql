-- Manually entered indicator values: what the system cannot derive (news
-- articles published, …), stored per org and period and always shown as manual.
CREATE TABLE manual_values (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    indicator TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    value BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    entered_by BIGINT,
    entered_at TEXT NOT NULL
);
CREATE UNIQUE INDEX manual_values_key ON manual_values(org_id, indicator, period_start, period_end);

-- Statistics: the figures engine reaches a subtree's certificate events by
-- index, with the period column in it (see BENCHMARKS.md, "Statistics"). The
-- members module indexes its own tables (its migration 2).
CREATE INDEX org_history_kind_date ON org_history(kind, effective_on);
