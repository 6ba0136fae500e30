-- 阵地: the streets/townships (街道/乡镇) of each county, the unit of the
-- service-circle figure; the stations; their daily visit counts.

-- One row per street or township, named within its county (GB/T 2260
-- county code). Kept by a union: the street/township union when the tree
-- has one, otherwise the county's, so a subtree's townships are those of
-- its orgs. The centre (WGS-84, micro-degrees) is optional: the public page
-- offers the townships that have one as places to search from.
CREATE TABLE station_townships (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    county_code TEXT NOT NULL,
    name TEXT NOT NULL,
    centre_lat_e6 BIGINT,
    centre_lng_e6 BIGINT,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX station_townships_name ON station_townships(county_code, name);
CREATE INDEX station_townships_org ON station_townships(org_id);

-- A station: its owning union, kind, place (stored WGS-84 in micro-degrees;
-- `datum_in` says what the coordinates were typed in), area in whole ㎡,
-- facilities (comma-separated keys), opening hours, status and dates.
CREATE TABLE stations (
    id ID_PK,
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    address TEXT NOT NULL,
    township_id BIGINT NOT NULL REFERENCES station_townships(id),
    lat_e6 BIGINT NOT NULL,
    lng_e6 BIGINT NOT NULL,
    datum_in TEXT NOT NULL,
    area_sqm BIGINT NOT NULL,
    facilities TEXT NOT NULL DEFAULT '',
    hours TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    opened_on TEXT NOT NULL,
    closed_on TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX stations_org ON stations(org_id);
CREATE INDEX stations_township ON stations(township_id);
CREATE INDEX stations_open_lat ON stations(status, lat_e6);

-- Visits (人次) of one station on one day; recording a day again replaces it.
CREATE TABLE station_visits (
    id ID_PK,
    station_id BIGINT NOT NULL REFERENCES stations(id),
    org_id BIGINT NOT NULL REFERENCES orgs(id),
    region_root BIGINT,
    on_date TEXT NOT NULL,
    visits BIGINT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE UNIQUE INDEX station_visits_day ON station_visits(station_id, on_date);
CREATE INDEX station_visits_org_date ON station_visits(org_id, on_date);
