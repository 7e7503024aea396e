-- The end of a conversation turn as ONE statement: an INSERT into this view records the
-- handled message id, saves the conversation and the resident's own fields (language, role,
-- consent), atomically. One round trip to the database thread instead of BEGIN, several
-- writes and COMMIT, which keeps the serialised part of each turn short (see bench/README.md).
CREATE VIEW turn_writes (
    channel, external_id, at, resident_id, step, draft,
    language, role, consent_version, consent_at, consent_refused_at
) AS SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

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
        consent_refused_at = NEW.consent_refused_at
    WHERE id = NEW.resident_id;
END;

-- An idea's status history is written by the database whenever the status is set, so that
-- no code path (intake today, staff triage later) can change a status without a trace.
CREATE TRIGGER ideas_status_created AFTER INSERT ON ideas
BEGIN
    INSERT INTO idea_events (idea_id, at, kind, status) VALUES (NEW.id, NEW.updated_at, 'status', NEW.status);
END;

CREATE TRIGGER ideas_status_changed AFTER UPDATE OF status ON ideas
    WHEN NEW.status IS NOT OLD.status
BEGIN
    INSERT INTO idea_events (idea_id, at, kind, status) VALUES (NEW.id, NEW.updated_at, 'status', NEW.status);
END;
