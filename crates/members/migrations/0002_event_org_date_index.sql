-- Statistics: the figures engine groups 会籍变化 events by org; this lets a
-- subtree's events be reached from its orgs by index, with the period column
-- in the index (see BENCHMARKS.md, "Statistics"). Databases made before
-- migrations were kept per module have it already (from the reports
-- module's first migration), hence IF NOT EXISTS.
CREATE INDEX IF NOT EXISTS membership_events_org_date ON membership_events(org_id, on_date);
