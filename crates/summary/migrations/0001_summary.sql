-- The annual work summary's drafts: one row per version of an org's summary
-- for a period. The body keeps the paragraphs' patterns as people edited
-- them (figures stay `{code}` tokens bound to their indicators); `figures`
-- holds the values the draft shows (frozen once final), `figures_before`
-- those of the generation before, to mark what changed.
CREATE TABLE IF NOT EXISTS summary_drafts (
    id ID_PK,
    region_root BIGINT,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    year INTEGER NOT NULL,
    version INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_review', 'final')),
    body TEXT NOT NULL,
    figures TEXT NOT NULL,
    figures_before TEXT NOT NULL DEFAULT '{}',
    author_id BIGINT,
    author TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    generated_at TEXT NOT NULL,
    finalised_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS summary_drafts_version ON summary_drafts(org_id, year, version);

-- A federation's own sections: renamed, reordered or added to the default
-- themes (platform::summary::SECTIONS). Kept per org; an org uses the
-- nearest ancestor-or-self that has any.
CREATE TABLE IF NOT EXISTS summary_sections (
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    key TEXT NOT NULL,
    title_zh TEXT NOT NULL,
    title_en TEXT NOT NULL,
    position INTEGER NOT NULL,
    PRIMARY KEY (org_id, key)
);
