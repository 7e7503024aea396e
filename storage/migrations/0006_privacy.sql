-- Privacy (Ley 1581 de 2012, habeas data): consent per purpose, versioned, with its proof; the
-- policy version in force; and residents whose personal data was erased.
--
-- A resident's consent, one pair of columns per purpose (granted since, under which version;
-- or withdrawn since):
--   handling       consent_at, consent_version / consent_refused_at   (0001; required)
--   updates        updates_at, updates_version / updates_off_at       (news about their ideas)
--   announcements  announcements_at, announcements_version / announcements_off_at
-- A consent counts only under the policy version in force (privacy_policy): a new version
-- asks again before the next use.
ALTER TABLE residents ADD COLUMN updates_at TEXT;
ALTER TABLE residents ADD COLUMN updates_version TEXT;
ALTER TABLE residents ADD COLUMN announcements_version TEXT;
ALTER TABLE residents ADD COLUMN announcements_off_at TEXT;
ALTER TABLE residents ADD COLUMN erased_at TEXT;  -- personal data erased (/borrar, residents forget)

-- Before this version news about one's ideas was on unless turned off, under the handling
-- consent's text ("to review your idea and answer you"); opting in to announcements was
-- under the version then in force.
UPDATE residents SET updates_at = consent_at, updates_version = consent_version
    WHERE consent_at IS NOT NULL AND updates_off_at IS NULL;
UPDATE residents SET announcements_version = consent_version
    WHERE announcements_at IS NOT NULL;

-- The version in force, written at start-up from [lab] privacy_policy_version.
CREATE TABLE privacy_policy (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version TEXT NOT NULL
);
INSERT INTO privacy_policy (id, version) VALUES (1, '2026-08');

-- The proof of every consent given, refused or withdrawn: written by the database itself
-- whenever a resident's consent changes, so that no code path can change one without a trace.
CREATE TABLE consent_log (
    id             INTEGER PRIMARY KEY,
    resident_id    INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    purpose        TEXT NOT NULL CHECK (purpose IN ('handling', 'updates', 'announcements')),
    granted        INTEGER NOT NULL CHECK (granted IN (0, 1)),
    policy_version TEXT,
    at             TEXT NOT NULL
);
CREATE INDEX consent_log_by_resident ON consent_log (resident_id, id);

INSERT INTO consent_log (resident_id, purpose, granted, policy_version, at)
    SELECT id, 'handling', 1, consent_version, consent_at FROM residents
    WHERE consent_at IS NOT NULL
    UNION ALL
    SELECT id, 'handling', 0, NULL, consent_refused_at FROM residents
    WHERE consent_at IS NULL AND consent_refused_at IS NOT NULL
    UNION ALL
    SELECT id, 'announcements', 1, announcements_version, announcements_at FROM residents
    WHERE announcements_at IS NOT NULL
    UNION ALL
    SELECT id, 'updates', 0, NULL, updates_off_at FROM residents
    WHERE updates_off_at IS NOT NULL;

CREATE TRIGGER consent_handling_logged AFTER UPDATE OF consent_at, consent_refused_at ON residents
    WHEN (NEW.consent_at IS NOT OLD.consent_at OR NEW.consent_refused_at IS NOT OLD.consent_refused_at)
        AND coalesce(NEW.consent_at, NEW.consent_refused_at) IS NOT NULL
BEGIN
    INSERT INTO consent_log (resident_id, purpose, granted, policy_version, at)
        VALUES (NEW.id, 'handling', NEW.consent_at IS NOT NULL,
                CASE WHEN NEW.consent_at IS NOT NULL THEN NEW.consent_version END,
                coalesce(NEW.consent_at, NEW.consent_refused_at));
END;

CREATE TRIGGER consent_updates_logged AFTER UPDATE OF updates_at, updates_off_at ON residents
    WHEN (NEW.updates_at IS NOT OLD.updates_at OR NEW.updates_off_at IS NOT OLD.updates_off_at)
        AND coalesce(NEW.updates_at, NEW.updates_off_at) IS NOT NULL
BEGIN
    INSERT INTO consent_log (resident_id, purpose, granted, policy_version, at)
        VALUES (NEW.id, 'updates', NEW.updates_at IS NOT NULL,
                CASE WHEN NEW.updates_at IS NOT NULL THEN NEW.updates_version END,
                coalesce(NEW.updates_at, NEW.updates_off_at));
END;

CREATE TRIGGER consent_announcements_logged
    AFTER UPDATE OF announcements_at, announcements_off_at ON residents
    WHEN (NEW.announcements_at IS NOT OLD.announcements_at
          OR NEW.announcements_off_at IS NOT OLD.announcements_off_at)
        AND coalesce(NEW.announcements_at, NEW.announcements_off_at) IS NOT NULL
BEGIN
    INSERT INTO consent_log (resident_id, purpose, granted, policy_version, at)
        VALUES (NEW.id, 'announcements', NEW.announcements_at IS NOT NULL,
                CASE WHEN NEW.announcements_at IS NOT NULL THEN NEW.announcements_version END,
                coalesce(NEW.announcements_at, NEW.announcements_off_at));
END;

-- The turn's single statement saves every consent column.
DROP TRIGGER turn_writes_insert;
DROP VIEW turn_writes;
CREATE VIEW turn_writes (
    channel, external_id, at, resident_id, step, draft,
    language, role, consent_version, consent_at, consent_refused_at,
    announcements_at, announcements_version, announcements_off_at,
    updates_at, updates_version, updates_off_at
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL WHERE 0;

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
        announcements_version = NEW.announcements_version,
        announcements_off_at = NEW.announcements_off_at,
        updates_at = NEW.updates_at,
        updates_version = NEW.updates_version,
        updates_off_at = NEW.updates_off_at,
        unreachable_at = NULL
    WHERE id = NEW.resident_id;
END;

CREATE INDEX inbound_by_received ON inbound_messages (received_at);
CREATE INDEX conversations_by_updated ON conversations (updated_at);
