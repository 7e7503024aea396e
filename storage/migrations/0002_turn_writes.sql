-- The common turn (a resident answers, nothing else changes) writes two rows: the handled
-- message id and the conversation. One INSERT into this view writes both, atomically, as a
-- single statement: one round trip to the database thread instead of BEGIN, two writes and
-- COMMIT, which keeps the serialised part of a turn short (see bench/ and README.md).
CREATE VIEW turn_writes (channel, external_id, resident_id, step, draft, at) AS
    SELECT NULL, NULL, NULL, NULL, NULL, NULL WHERE 0;

CREATE TRIGGER turn_writes_insert INSTEAD OF INSERT ON turn_writes
BEGIN
    INSERT OR IGNORE INTO inbound_messages (channel, external_id, received_at)
        VALUES (NEW.channel, NEW.external_id, NEW.at);
    INSERT OR REPLACE INTO conversations (resident_id, step, draft, updated_at)
        VALUES (NEW.resident_id, NEW.step, NEW.draft, NEW.at);
END;
