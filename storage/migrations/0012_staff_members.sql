-- The lab's team, managed in place (issue 20): staff are kept here, not only in the config, and
-- the staff group is linked from the group itself. [staff] telegram_ids and group_chat_id in the
-- config still seed them (handlers/engine/team.py says how).

-- One row per Telegram user ever made staff. A removed member keeps their row (removed_at), so
-- that the config's list does not bring them back at the next start.
CREATE TABLE staff_members (
    telegram_id INTEGER PRIMARY KEY,
    username    TEXT,                   -- their @username (without "@") when added, if known
    role        TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    added_by    TEXT NOT NULL,          -- "cli", "config", "telegram:42"
    added_at    TEXT NOT NULL,
    removed_by  TEXT,
    removed_at  TEXT
);

-- The staff group as linked with /vincular (one row at most); none: the config's group_chat_id.
CREATE TABLE staff_group (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    chat_id   INTEGER NOT NULL,
    linked_by TEXT NOT NULL,            -- who sent /vincular: "telegram:42"
    linked_at TEXT NOT NULL
);

-- One-time codes printed by `minga staff link-group`: only their SHA-256 is kept.
CREATE TABLE staff_link_codes (
    code_hash  TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    used_in    INTEGER                  -- the group it linked
);

-- The @username Telegram showed with their last message, so that staff can be added by it.
-- Looked up only when staff are added (any case, as Telegram's are): no index.
ALTER TABLE residents ADD COLUMN username TEXT;
