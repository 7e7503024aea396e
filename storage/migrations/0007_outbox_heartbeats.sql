-- Which channels a running `minga run` (or `minga chat`) delivers the outbox for, and when
-- its outbox worker last said so (every few seconds). `minga broadcast send --wait` reads it
-- to tell "being sent" from "nothing running to send it". A clean stop deletes its rows.
CREATE TABLE outbox_heartbeats (
    channel  TEXT PRIMARY KEY,
    beat_at  TEXT NOT NULL,
    worker   TEXT NOT NULL  -- which process: host and pid, for the operator
) WITHOUT ROWID;
