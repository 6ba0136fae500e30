-- Attachments: files attached to a module's record (录取通知书, hospital bills,
-- photos, signed forms). The bytes live in a content-addressed blob store
-- (`platform::attachments::BlobStore`), keyed by their SHA-256; a row says
-- which record a file belongs to. The same content attached twice is stored
-- once and referenced by two rows.
--
-- `owner_kind` names the record kind a module registered
-- (`Module::attachment_owners`); access is decided by the owner's org at the
-- time of the request, `org_id`/`org_path`/`region_root` are copied from it at
-- upload for subtree queries and as the future shard key.
-- A deleted attachment keeps its row (`deleted_at`) for a grace period, then
-- the orphan collector removes the row and, when nothing else references it,
-- the blob.
CREATE TABLE attachments (
    id ID_PK,
    owner_kind TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    region_root BIGINT,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    -- Sniffed from the content, never taken from the client.
    mime TEXT NOT NULL,
    file_name TEXT NOT NULL,
    label TEXT NOT NULL DEFAULT '',
    uploaded_by BIGINT REFERENCES users(id),
    uploaded_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX attachments_owner ON attachments(owner_kind, owner_id);
CREATE INDEX attachments_sha256 ON attachments(sha256);
