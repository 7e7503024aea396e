-- Nothing a resident sent or is owed lives only in a process's memory (issue 19).
--
-- A webhook body is written here before the platform is answered 200, and deleted once it is
-- handled; at start-up, the rows left are handled again (the inbound dedup makes a replay
-- harmless). `key` is what a retry of the same delivery repeats (Telegram's update_id; WhatsApp's
-- message id, each message of a batched body kept as a row of its own, and a digest of what
-- else the body holds), so a retried body is kept once.
--
-- With several workers (issue 19), a row also says whose conversation it is (`user_key`; NULL
-- for what belongs to none, such as WhatsApp's delivery statuses) and its place in it
-- (`position`: Telegram's update_id; 0 on WhatsApp, where `id`, the arrival order, decides).
-- Whichever worker holds a conversation's lock handles its rows in that order, so a message
-- received by one worker never overtakes an earlier one received by another.
CREATE TABLE inbound_queue (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL,
    key          TEXT NOT NULL,
    user_key     TEXT,
    position     INTEGER NOT NULL DEFAULT 0,
    body         TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    UNIQUE (channel, key)
);
CREATE INDEX inbound_queue_conversation ON inbound_queue (channel, user_key, position, id);

-- A turn's replies, committed with the turn and deleted once sent; a process that dies in
-- between leaves them to the next start, which sends them (at most once more each).
-- `chat` is where they go (the staff group, or the resident's own chat: user_key).
CREATE TABLE pending_replies (
    id          INTEGER PRIMARY KEY,
    channel     TEXT NOT NULL,
    user_key    TEXT NOT NULL,
    chat        TEXT NOT NULL,
    replies     TEXT NOT NULL,  -- the Reply values as JSON (handlers/engine/messages.py)
    created_at  TEXT NOT NULL
);
CREATE INDEX pending_replies_conversation ON pending_replies (channel, user_key, id);
