-- Online join answers alike for a stranger, an active member and someone
-- who has applied before: every application is kept (the union sees them
-- and decides; approving one for an active member is refused there), so
-- the one-pending-per-ID index goes. The same ID and phone pending twice is
-- still one application (found by the applicant index).
DROP INDEX IF EXISTS join_requests_one_pending;
CREATE INDEX IF NOT EXISTS join_requests_pending ON join_requests(status, id_hash);
