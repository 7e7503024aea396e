-- Named leases: see SQLite's 0010_leases.sql.
CREATE TABLE leases (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    renewed_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);

INSERT INTO leases (name, holder, renewed_at, expires_at)
SELECT 'outbox:' || channel, worker, beat_at, beat_at FROM outbox_heartbeats;

DROP TABLE outbox_heartbeats;
