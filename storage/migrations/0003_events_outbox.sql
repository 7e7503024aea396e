-- The outbound half: the lab's events and RSVPs, broadcasts, the reminders already handled,
-- and the outbox every bulk message goes through. Residents gain an opt-in to announcements
-- and a mark for "blocked the bot" (reset whenever they write again).

ALTER TABLE residents ADD COLUMN announcements_at TEXT;  -- opted in to announcements since
ALTER TABLE residents ADD COLUMN unreachable_at TEXT;    -- the platform said they blocked us
CREATE INDEX residents_announced ON residents (announcements_at)
    WHERE announcements_at IS NOT NULL AND unreachable_at IS NULL;

CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    starts_at   TEXT NOT NULL,
    ends_at     TEXT NOT NULL,
    venue       TEXT NOT NULL,
    address     TEXT NOT NULL DEFAULT '',
    latitude    REAL CHECK (latitude BETWEEN -90 AND 90),
    longitude   REAL CHECK (longitude BETWEEN -180 AND 180),
    capacity    INTEGER CHECK (capacity > 0),
    status      TEXT NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'moved', 'cancelled')),
    created_by  TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX events_by_start ON events (starts_at);

-- One answer per resident and event. A "yes" beyond the capacity waits in line (waitlist),
-- in the order of `answered_at`, and is promoted when a place frees up.
CREATE TABLE rsvps (
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    resident_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    status      TEXT NOT NULL CHECK (status IN ('going', 'waitlist', 'declined')),
    answered_at TEXT NOT NULL,
    PRIMARY KEY (event_id, resident_id)
) WITHOUT ROWID;
CREATE INDEX rsvps_by_status ON rsvps (event_id, status, answered_at);

CREATE TABLE broadcasts (
    id           INTEGER PRIMARY KEY,
    text         TEXT NOT NULL,
    event_id     INTEGER REFERENCES events (id),
    audience     TEXT NOT NULL,
    created_by   TEXT NOT NULL,             -- "cli", or "telegram:<user id>" for staff
    reporter_id  INTEGER REFERENCES residents (id),  -- staff told when it ends
    recipients   INTEGER NOT NULL,
    created_at   TEXT NOT NULL,
    finished_at  TEXT
);

-- A reminder (event, offset) for a given start time, once handled: sent to the outbox, or
-- skipped (already due when the event was created or moved, or overtaken by a later one).
CREATE TABLE reminders (
    event_id    INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    offset_s    INTEGER NOT NULL,
    starts_at   TEXT NOT NULL,
    outcome     TEXT NOT NULL CHECK (outcome IN ('queued', 'skipped')),
    handled_at  TEXT NOT NULL,
    PRIMARY KEY (event_id, offset_s, starts_at)
) WITHOUT ROWID;

-- Every bulk message, one row per (kind, subject, recipient): written in the same transaction
-- as what caused it, marked as it goes, so a restart resumes and never sends one twice.
CREATE TABLE outbox (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    recipient_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    payload      TEXT NOT NULL DEFAULT '{}',
    priority     INTEGER NOT NULL DEFAULT 5,   -- lower goes first: reminders before broadcasts
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sent', 'failed', 'blocked', 'skipped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    not_before   TEXT NOT NULL,
    expires_at   TEXT,                         -- not sent after this (a reminder: the start)
    broadcast_id INTEGER REFERENCES broadcasts (id),
    created_at   TEXT NOT NULL,
    done_at      TEXT,
    UNIQUE (kind, subject, recipient_id)
);
CREATE INDEX outbox_pending ON outbox (priority, not_before, id) WHERE status = 'pending';
CREATE INDEX outbox_by_broadcast ON outbox (broadcast_id, status) WHERE broadcast_id IS NOT NULL;
CREATE INDEX outbox_by_recipient ON outbox (recipient_id, status);

-- The turn's single statement now also saves the opt-in, and clears "unreachable": someone
-- who writes to the bot has not blocked it.
DROP TRIGGER turn_writes_insert;
DROP VIEW turn_writes;
CREATE VIEW turn_writes (
    channel, external_id, at, resident_id, step, draft,
    language, role, consent_version, consent_at, consent_refused_at, announcements_at
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER turn_writes_insert INSTEAD OF INSERT ON turn_writes
BEGIN
    INSERT OR IGNORE INTO inbound_messages (channel, external_id, received_at)
        VALUES (NEW.channel, NEW.external_id, NEW.at);
    INSERT OR REPLACE INTO conversations (resident_id, step, draft, updated_at)
        VALUES (NEW.resident_id, NEW.step, NEW.draft, NEW.at);
    UPDATE residents SET
        language = NEW.language,
        role = NEW.role,
        consent_version = NEW.consent_version,
        consent_at = NEW.consent_at,
        consent_refused_at = NEW.consent_refused_at,
        announcements_at = NEW.announcements_at,
        unreachable_at = NULL
    WHERE id = NEW.resident_id;
END;
