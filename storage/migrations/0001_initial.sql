-- Minga's first schema: residents, their conversations, inbound dedup, ideas and their history.
-- Times are ISO-8601 UTC text ("2026-11-21T05:41:03.000000Z"), which sorts in time order.

CREATE TABLE residents (
    id                 INTEGER PRIMARY KEY,
    channel            TEXT NOT NULL,
    user_key           TEXT NOT NULL,
    language           TEXT,
    role               TEXT CHECK (role IN ('resident', 'official', 'contractor')),
    consent_version    TEXT,
    consent_at         TEXT,
    consent_refused_at TEXT,
    created_at         TEXT NOT NULL,
    UNIQUE (channel, user_key)
);

-- One conversation per resident: the step they are at and the answers collected so far.
CREATE TABLE conversations (
    resident_id INTEGER PRIMARY KEY REFERENCES residents (id) ON DELETE CASCADE,
    step        TEXT NOT NULL,
    draft       TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL
);

-- Platform message ids already handled: a webhook retry or a replayed update is dropped.
CREATE TABLE inbound_messages (
    channel     TEXT NOT NULL,
    external_id TEXT NOT NULL,
    received_at TEXT NOT NULL,
    PRIMARY KEY (channel, external_id)
) WITHOUT ROWID;

-- Per-year sequence behind the human reference MNG-2026-000123.
CREATE TABLE reference_counters (
    year INTEGER PRIMARY KEY,
    last INTEGER NOT NULL
);

CREATE TABLE ideas (
    id            INTEGER PRIMARY KEY,
    reference     TEXT NOT NULL UNIQUE,
    resident_id   INTEGER NOT NULL REFERENCES residents (id),
    role          TEXT NOT NULL CHECK (role IN ('resident', 'official', 'contractor')),
    language      TEXT NOT NULL,
    problem       TEXT NOT NULL,
    idea          TEXT,
    category      TEXT NOT NULL,
    focus         TEXT NOT NULL CHECK (focus IN ('external', 'internal')),
    location_text TEXT,
    latitude      REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude     REAL CHECK (longitude BETWEEN -180 AND 180),
    anonymous     INTEGER NOT NULL CHECK (anonymous IN (0, 1)),
    contact_name  TEXT,
    contact       TEXT,
    status        TEXT NOT NULL DEFAULT 'received',
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX ideas_by_resident ON ideas (resident_id, created_at);
CREATE INDEX ideas_by_created ON ideas (created_at);

-- Photos and other files kept for an idea; path is relative to the configured media folder.
CREATE TABLE idea_media (
    idea_id      INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    path         TEXT NOT NULL,
    platform_ref TEXT,
    PRIMARY KEY (idea_id, position)
);

-- Status history and staff notes.
CREATE TABLE idea_events (
    id       INTEGER PRIMARY KEY,
    idea_id  INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('status', 'note')),
    status   TEXT,
    note     TEXT,
    actor    TEXT
);
CREATE INDEX idea_events_by_idea ON idea_events (idea_id, at);
