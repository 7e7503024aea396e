-- WhatsApp answers each message it accepts with an id, and reports on it later in a webhook
-- (sent, delivered, read, or failed with an error code): which outbox row each id carried,
-- and how far it got. Replies in a conversation are not recorded (nothing waits on them).
CREATE TABLE deliveries (
    message_id  TEXT PRIMARY KEY,
    channel     TEXT NOT NULL,
    outbox_id   INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    recipient_id INTEGER NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    status      TEXT NOT NULL DEFAULT 'accepted'
                CHECK (status IN ('accepted', 'sent', 'delivered', 'read', 'failed')),
    error_code  INTEGER,
    updated_at  TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX deliveries_by_outbox ON deliveries (outbox_id);
-- "Meta said this resident's 24-hour window was closed after their last message": the next
-- bulk message to them goes as a template.
CREATE INDEX deliveries_window_closed ON deliveries (recipient_id, updated_at)
    WHERE error_code = 131047;
