-- 普惠 (member benefits): merchants and their clerks, offers, voucher
-- campaigns and their vouchers, redemptions. Every table carries the owning
-- org and its region_root (see ARCHITECTURE.md, "Past one PostgreSQL").

CREATE TABLE merchants (
    id ID_PK,
    -- The union that signed the agreement (scope).
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    name TEXT NOT NULL,
    -- GB 32100 unified social credit code, canonical (upper case).
    credit_code TEXT NOT NULL,
    category TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    -- Micro-degrees as typed from a Chinese map (GCJ-02); NULL when unknown.
    lng_e6 BIGINT,
    lat_e6 BIGINT,
    contact_name TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    agreement_from TEXT NOT NULL,
    agreement_to TEXT NOT NULL,
    -- active | suspended | ended
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE UNIQUE INDEX merchants_credit_code ON merchants(credit_code);
CREATE INDEX merchants_org ON merchants(org_id);

-- A clerk account (users.role = 'merchant') belongs to exactly one merchant.
CREATE TABLE merchant_clerks (
    user_id BIGINT NOT NULL PRIMARY KEY REFERENCES users(id),
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    created_at TEXT NOT NULL
);
CREATE INDEX merchant_clerks_merchant ON merchant_clerks(merchant_id);

CREATE TABLE offers (
    id ID_PK,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    title TEXT NOT NULL,
    -- What the member pays or gets: "1元观影", "半价", free text.
    price_rule TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT NOT NULL,
    -- At most limit_count redemptions per member per limit_period
    -- (day | week | month | year | total).
    limit_count BIGINT NOT NULL,
    limit_period TEXT NOT NULL,
    -- all | migrant | new_employment | subtree
    eligibility TEXT NOT NULL,
    -- new_employment: one group of the roster's vocabulary, '' for any.
    elig_group TEXT NOT NULL DEFAULT '',
    -- subtree: members of this org's subtree (its path kept for the check).
    elig_org_id BIGINT REFERENCES orgs(id),
    elig_path TEXT NOT NULL DEFAULT '',
    -- active | withdrawn
    status TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX offers_merchant ON offers(merchant_id, status);

CREATE TABLE voucher_campaigns (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    name TEXT NOT NULL,
    value_fen BIGINT NOT NULL,
    -- The most vouchers the campaign may issue (its budget ÷ value).
    quantity BIGINT NOT NULL,
    issued BIGINT NOT NULL DEFAULT 0,
    -- Last day a voucher may be redeemed (inclusive).
    expires_on TEXT NOT NULL,
    -- The roster selection it was issued to (JSON, for the record).
    selection TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL
);
CREATE INDEX voucher_campaigns_org ON voucher_campaigns(org_id);

CREATE TABLE campaign_merchants (
    campaign_id BIGINT NOT NULL REFERENCES voucher_campaigns(id),
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    PRIMARY KEY (campaign_id, merchant_id)
);

CREATE TABLE vouchers (
    id ID_PK,
    campaign_id BIGINT NOT NULL REFERENCES voucher_campaigns(id),
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    -- The member's union when issued.
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    value_fen BIGINT NOT NULL,
    -- issued | redeemed
    status TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    redeemed_at TEXT,
    merchant_id BIGINT REFERENCES merchants(id)
);
-- One voucher per person per campaign.
CREATE UNIQUE INDEX vouchers_one_per_person ON vouchers(campaign_id, person_id);
CREATE INDEX vouchers_person ON vouchers(person_id, status);
CREATE INDEX vouchers_org ON vouchers(org_id, issued_on);

CREATE TABLE redemptions (
    id ID_PK,
    -- offer | voucher
    kind TEXT NOT NULL,
    merchant_id BIGINT NOT NULL REFERENCES merchants(id),
    offer_id BIGINT REFERENCES offers(id),
    voucher_id BIGINT REFERENCES vouchers(id),
    campaign_id BIGINT REFERENCES voucher_campaigns(id),
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    person_id BIGINT NOT NULL REFERENCES persons(id),
    -- The member's union at redemption (figures and scope).
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    card_no TEXT NOT NULL,
    clerk_user_id BIGINT REFERENCES users(id),
    -- The voucher's value; 0 for an offer.
    amount_fen BIGINT NOT NULL DEFAULT 0,
    -- Asia/Shanghai date of the redemption.
    on_date TEXT NOT NULL,
    -- The offer's limit period it counts in ('2026-11', '2026-W48', 'all' …)
    -- and its place in it (1 … limit_count): two racing redemptions over
    -- the limit collide on the unique index below.
    period_key TEXT NOT NULL DEFAULT '',
    seq BIGINT NOT NULL DEFAULT 0,
    redeemed_at TEXT NOT NULL
);
-- A voucher is redeemed once, whatever races.
CREATE UNIQUE INDEX redemptions_one_per_voucher ON redemptions(voucher_id) WHERE voucher_id IS NOT NULL;
CREATE UNIQUE INDEX redemptions_offer_limit ON redemptions(offer_id, person_id, period_key, seq) WHERE offer_id IS NOT NULL;
CREATE INDEX redemptions_org_date ON redemptions(org_id, on_date);
CREATE INDEX redemptions_merchant_date ON redemptions(merchant_id, on_date);
CREATE INDEX redemptions_clerk_date ON redemptions(clerk_user_id, on_date);
CREATE INDEX redemptions_person ON redemptions(person_id);
