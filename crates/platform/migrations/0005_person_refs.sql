-- Person references: a module's record (a hardship case, a legal-aid file, a
-- mutual-aid claim) refers to a person through a row here — a roster person
-- (kind 'member', `person_id` of `persons`, no foreign key: the platform does
-- not depend on the members tables) or a worker who is not on the roster
-- (kind 'non_member').
--
-- One row per person instance-wide, found by the keyed hash of the ID number
-- (`id_hash`, the same key and derivation as `persons.id_hash`), so a worker
-- referred by two unions is one row, and a non-member who later joins the
-- roster keeps their reference (the row becomes kind 'member').
-- ID and phone numbers are sealed as on the roster: AES-GCM (*_enc), keyed
-- hash (*_hash), masked (*_masked). No birth date is stored: beside the
-- masked ID (first 6 and last 4 kept) it would give the whole number back.
--
-- `org_id`/`org_path`/`region_root`: the org that first recorded the
-- reference (the future shard key); every org that recorded it is in
-- `person_ref_orgs`, and the reference is visible to their subtrees.
CREATE TABLE person_refs (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    -- member | non_member
    kind TEXT NOT NULL,
    person_id BIGINT,
    name TEXT NOT NULL,
    id_kind TEXT NOT NULL,
    id_hash TEXT NOT NULL,
    id_enc TEXT NOT NULL,
    id_masked TEXT NOT NULL,
    phone_hash TEXT,
    phone_enc TEXT,
    phone_masked TEXT,
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- One person, one row, instance-wide: a non-member referred by two unions
-- (even racing: one insert wins, the other finds its row), and a roster
-- person alike (one ID hash is one person on the roster too).
CREATE UNIQUE INDEX person_refs_id_hash ON person_refs(id_hash);
CREATE INDEX person_refs_person ON person_refs(person_id);

-- Every org that recorded a reference: the reference is visible to the
-- subtree of each (scope is decided on the org's current path).
CREATE TABLE person_ref_orgs (
    ref_id BIGINT NOT NULL REFERENCES person_refs(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    region_root BIGINT,
    created_by BIGINT REFERENCES users(id),
    created_at TEXT NOT NULL,
    PRIMARY KEY (ref_id, org_id)
);
CREATE INDEX person_ref_orgs_path ON person_ref_orgs(org_path PATTERN_OPS);
