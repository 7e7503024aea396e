-- The lab's team, managed in place: see SQLite's 0012_staff_members.sql.
CREATE TABLE staff_members (
    telegram_id BIGINT PRIMARY KEY,
    username    TEXT,
    role        TEXT NOT NULL CHECK (role IN ('staff', 'admin')),
    added_by    TEXT NOT NULL,
    added_at    TEXT NOT NULL,
    removed_by  TEXT,
    removed_at  TEXT
);

CREATE TABLE staff_group (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    chat_id   BIGINT NOT NULL,
    linked_by TEXT NOT NULL,
    linked_at TEXT NOT NULL
);

CREATE TABLE staff_link_codes (
    code_hash  TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at    TEXT,
    used_in    BIGINT
);

ALTER TABLE residents ADD COLUMN username TEXT;
