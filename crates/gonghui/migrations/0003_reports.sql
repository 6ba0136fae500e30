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

-- Statistics: the figures engine groups memberships and 会籍变化 events by
-- org; these let a subtree's rows be reached from its orgs by index, with the
-- period columns in the index (see BENCHMARKS.md, "Statistics").
CREATE INDEX membership_events_org_date ON membership_events(org_id, on_date);
CREATE INDEX org_history_kind_date ON org_history(kind, effective_on);
