-- 职工互助保障: plans offered by a union (usually the city federation) to
-- the unions of its subtree, persons enrolled from the roster, claims that
-- go up the review chain, and the payout ledger. Money in fen.

CREATE TABLE aid_plans (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    contribution_fen BIGINT NOT NULL,
    per_day_fen BIGINT NOT NULL,
    deductible_fen BIGINT NOT NULL,
    ratio_pct BIGINT NOT NULL,
    per_claim_cap_fen BIGINT,
    person_period_cap_fen BIGINT,
    -- Labels of the attachments a claim needs, comma-separated.
    required_docs TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

-- One person once per plan, enrolled by the union of their membership.
CREATE TABLE aid_enrolments (
    id ID_PK,
    plan_id BIGINT NOT NULL REFERENCES aid_plans(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    contribution_fen BIGINT NOT NULL,
    enrolled_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX aid_enrolments_one ON aid_enrolments(plan_id, person_id);
CREATE INDEX aid_enrolments_org ON aid_enrolments(org_id, enrolled_on);

-- draft → submitted (on the review chain) → approved | rejected.
CREATE TABLE aid_claims (
    id ID_PK,
    enrolment_id BIGINT NOT NULL REFERENCES aid_enrolments(id),
    plan_id BIGINT NOT NULL REFERENCES aid_plans(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    event_date TEXT NOT NULL,
    category TEXT NOT NULL,
    amount_fen BIGINT NOT NULL,
    days BIGINT NOT NULL,
    status TEXT NOT NULL,
    payout_fen BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX aid_claims_org ON aid_claims(org_id);
CREATE INDEX aid_claims_person ON aid_claims(plan_id, person_id);

-- What was paid: one row per approved claim, written with the approval.
CREATE TABLE aid_payouts (
    id ID_PK,
    claim_id BIGINT NOT NULL REFERENCES aid_claims(id),
    plan_id BIGINT NOT NULL REFERENCES aid_plans(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    person_id BIGINT NOT NULL REFERENCES persons(id),
    amount_fen BIGINT NOT NULL,
    paid_on TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX aid_payouts_claim ON aid_payouts(claim_id);
CREATE INDEX aid_payouts_org_date ON aid_payouts(org_id, paid_on);
CREATE INDEX aid_payouts_person ON aid_payouts(plan_id, person_id);
