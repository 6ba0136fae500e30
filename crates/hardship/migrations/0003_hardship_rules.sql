-- Special campaigns (专项救助: 疫情救助 …) say whether they need an open
-- hardship file (1) or help any worker (0). Other kinds have fixed rules
-- (grants::Eligibility).
-- Version 3 (version 2 is 0002_visits_jobs.sql).
ALTER TABLE hardship_campaigns ADD COLUMN file_required BIGINT NOT NULL DEFAULT 0;

-- A closed file purged of its personal data after its keeping period
-- (purge.rs): the date; the anonymised row stays for the statistics.
ALTER TABLE hardship_files ADD COLUMN purged_on TEXT;
