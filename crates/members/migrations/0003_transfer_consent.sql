-- Transfers with the sending union's consent: the receiving union asks with
-- what it knows (name, ID number), and only the sending union — or an
-- account above both — releases. A request whose ID matches no active
-- member (or whose name does not match) is kept like any other, without a
-- person, so the asking side cannot tell the cases apart; the sending side
-- never sees it. The table is rebuilt because the person and the sending
-- membership become optional (SQLite cannot drop NOT NULL in place).
CREATE TABLE transfers_v2 (
    id ID_PK,
    person_id BIGINT REFERENCES persons(id),
    from_membership_id BIGINT REFERENCES memberships(id),
    from_org_id BIGINT REFERENCES orgs(id),
    to_org_id BIGINT NOT NULL REFERENCES orgs(id),
    -- The keyed hash of the ID number the receiving side typed, and what it
    -- typed: all it sees until the release.
    id_hash TEXT NOT NULL DEFAULT '',
    typed_name TEXT NOT NULL DEFAULT '',
    typed_id_masked TEXT NOT NULL DEFAULT '',
    -- pending | approved | rejected
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    requested_by BIGINT,
    requested_at TEXT NOT NULL,
    decided_by BIGINT,
    decided_at TEXT,
    decision_note TEXT NOT NULL DEFAULT ''
);
INSERT INTO transfers_v2 (id, person_id, from_membership_id, from_org_id, to_org_id, id_hash, typed_name,
    typed_id_masked, status, reason, requested_by, requested_at, decided_by, decided_at, decision_note)
SELECT t.id, t.person_id, t.from_membership_id, t.from_org_id, t.to_org_id, p.id_hash, p.name, p.id_masked,
    t.status, t.reason, t.requested_by, t.requested_at, t.decided_by, t.decided_at, t.decision_note
FROM transfers t JOIN persons p ON p.id = t.person_id;
DROP TABLE transfers;
ALTER TABLE transfers_v2 RENAME TO transfers;
RESEED_ID(transfers);
CREATE INDEX transfers_to ON transfers(to_org_id, status);
CREATE INDEX transfers_from ON transfers(from_org_id, status);
CREATE INDEX transfers_hash ON transfers(id_hash, status);
