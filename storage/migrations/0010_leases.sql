-- Named leases (issue 19): several `minga run` workers share one database, and some work must
-- be done by one of them at a time (Telegram's polling, the scheduler's jobs). A worker holds
-- a lease until expires_at and renews it while it works; once it has expired (the holder
-- died, or lost the database), another worker may take it.
--
-- The outbox heartbeats of 0007 are rows of this table too, named "outbox:<channel>": the
-- same "who is alive, until when" record, shared by every worker delivering that channel.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,  -- which process: host, pid and a random tag, for the operator
    renewed_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO leases (name, holder, renewed_at, expires_at)
SELECT 'outbox:' || channel, worker, beat_at, beat_at FROM outbox_heartbeats;

DROP TABLE outbox_heartbeats;
