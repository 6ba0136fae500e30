-- Statistics cache: a per-org counter, bumped inside the writing transaction
-- by every write to the org's member records (memberships, 会籍变化 events,
-- the persons holding a membership there) and when the org moves in the tree
-- (`platform::dataver::touch`). The figures engine keeps per-org values in
-- memory with the version they were computed at and recomputes an org whose
-- version has moved on. An org without a row is at version 0.
CREATE TABLE org_data_version (
    org_id BIGINT PRIMARY KEY REFERENCES orgs(id),
    version BIGINT NOT NULL
);
