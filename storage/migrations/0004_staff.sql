-- The staff side: triage (who changed a status, the reason told to the resident, duplicates
-- and the residents who follow an idea), calls for ideas with their categories and winners,
-- consent to publish, the daily digest, and an opt-out from updates about one's ideas.

ALTER TABLE residents ADD COLUMN updates_off_at TEXT;  -- no news about their ideas since

CREATE TABLE calls (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    categories  TEXT NOT NULL,          -- JSON: [{"id", "es", "en", "focus"}, ...]
    deadline    TEXT NOT NULL,          -- answers after this are not taken for the call
    closed_at   TEXT,                   -- closed by staff before the deadline
    results_at  TEXT,                   -- when the winners were announced
    created_by  TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

ALTER TABLE ideas ADD COLUMN status_by TEXT;       -- who set the current status ("cli", "telegram:42")
ALTER TABLE ideas ADD COLUMN status_reason TEXT;   -- told to the resident (e.g. why not selected)
ALTER TABLE ideas ADD COLUMN duplicate_of INTEGER REFERENCES ideas (id);
ALTER TABLE ideas ADD COLUMN call_id INTEGER REFERENCES calls (id);
ALTER TABLE ideas ADD COLUMN call_category TEXT;
ALTER TABLE ideas ADD COLUMN award TEXT CHECK (award IN ('shortlisted', 'winner'));
-- May the idea appear in the public catalogue (never with the author's name)?
ALTER TABLE ideas ADD COLUMN publish TEXT NOT NULL DEFAULT 'no'
    CHECK (publish IN ('no', 'text', 'photos'));
CREATE INDEX ideas_by_status ON ideas (status, created_at);
CREATE INDEX ideas_by_call ON ideas (call_id, call_category) WHERE call_id IS NOT NULL;
CREATE INDEX ideas_published ON ideas (category, created_at) WHERE publish != 'no';

-- Residents who hear of an idea's progress besides its author: the authors of its duplicates.
CREATE TABLE idea_followers (
    idea_id     INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    since       TEXT NOT NULL,
    PRIMARY KEY (idea_id, resident_id)
) WITHOUT ROWID;

-- idea_events gains replies to the resident and awards; its CHECK can only change by a rebuild.
-- The triggers that write to it go first and come back recording who and why.
DROP TRIGGER ideas_status_created;
DROP TRIGGER ideas_status_changed;
CREATE TABLE idea_events_new (
    id       INTEGER PRIMARY KEY,
    idea_id  INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL CHECK (kind IN ('status', 'note', 'reply', 'award')),
    status   TEXT,
    note     TEXT,
    actor    TEXT
);
INSERT INTO idea_events_new (id, idea_id, at, kind, status, note, actor)
    SELECT id, idea_id, at, kind, status, note, actor FROM idea_events;
DROP TABLE idea_events;
ALTER TABLE idea_events_new RENAME TO idea_events;
CREATE INDEX idea_events_by_idea ON idea_events (idea_id, at);

CREATE TRIGGER ideas_status_created AFTER INSERT ON ideas
BEGIN
    INSERT INTO idea_events (idea_id, at, kind, status, actor)
        VALUES (NEW.id, NEW.updated_at, 'status', NEW.status, NEW.status_by);
END;

CREATE TRIGGER ideas_status_changed AFTER UPDATE OF status ON ideas
    WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO idea_events (idea_id, at, kind, status, note, actor)
        VALUES (NEW.id, NEW.updated_at, 'status', NEW.status, NEW.status_reason, NEW.status_by);
END;

-- One daily digest per day of the lab's calendar: what it covered and whether it went out.
CREATE TABLE digests (
    day          TEXT PRIMARY KEY,      -- the lab's local date, 2026-11-21
    covers_from  TEXT NOT NULL,
    covers_until TEXT NOT NULL,
    ideas        INTEGER NOT NULL,
    outcome      TEXT NOT NULL CHECK (outcome IN ('queued', 'empty', 'no_group')),
    created_at   TEXT NOT NULL
) WITHOUT ROWID;
