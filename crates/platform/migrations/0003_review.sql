-- The shared review chain (审批流): a module's record goes up a chain of org
-- levels (基层工会 submits → 县(区)总工会 初审 → 市总工会 终审), each step
-- decided by the applicant's ancestor-or-self at that level. Rows here carry
-- the applicant org's region_root, the future Citus distribution key.

CREATE TABLE review_items (
    id ID_PK,
    -- Copied from the applicant org at submit (see ARCHITECTURE, "Past one PostgreSQL").
    region_root BIGINT,
    -- The applicant org, and its path copied at submit for scoping.
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    -- The module's review kind key and the module's own record id.
    kind TEXT NOT NULL,
    record_id BIGINT NOT NULL,
    title TEXT NOT NULL,
    -- The levels that decide, in order, comma-separated: 'county,city'.
    chain TEXT NOT NULL,
    -- The org deciding each step, resolved from the path at submit: '2,1'.
    deciders TEXT NOT NULL,
    -- Index into chain/deciders of the current step.
    step BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'returned', 'rejected', 'approved')),
    -- Whose inbox the item is in: the current step's deciding org while
    -- pending, the submitting org while returned, none once decided.
    waiting_org_id BIGINT,
    submitted_by BIGINT,
    submitter_org_id BIGINT NOT NULL REFERENCES orgs(id),
    submitted_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- The inbox: one index lookup by the caller's org.
CREATE INDEX review_items_waiting ON review_items(waiting_org_id, updated_at);
-- A record has at most one open review (pending or returned); a module finds
-- a record's reviews through the full (kind, record_id) index below.
CREATE UNIQUE INDEX review_items_open ON review_items(kind, record_id) WHERE status IN ('pending', 'returned');
CREATE INDEX review_items_record ON review_items(kind, record_id);

-- Every step taken, in order: the item's history.
CREATE TABLE review_steps (
    id ID_PK,
    region_root BIGINT,
    item_id BIGINT NOT NULL REFERENCES review_items(id),
    -- The step the action was taken at (0 for submit and resubmit).
    step BIGINT NOT NULL,
    -- The level of the acting org (a decider's is its chain level).
    level TEXT NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('submit', 'approve', 'return', 'reject', 'resubmit')),
    actor_id BIGINT,
    actor TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    comment TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL
);
CREATE INDEX review_steps_item ON review_steps(item_id, id);
