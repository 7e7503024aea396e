-- Nothing a resident sent or is owed lives only in a process's memory (issue 19).
--
-- A webhook body is written here before the platform is answered 200, and deleted once it is
-- handled; at start-up, the rows left are handled again (the inbound dedup makes a replay
-- harmless). `key` is what a retry of the same delivery repeats (Telegram's update_id, a
-- digest of a WhatsApp body), so a retried body is kept once.
CREATE TABLE inbound_queue (
    channel      TEXT NOT NULL,
    key          TEXT NOT NULL,
    body         TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    PRIMARY KEY (channel, key)
) WITHOUT ROWID;

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
