-- Alerts to the staff group: see SQLite's 0013_watch_alerts.sql.
CREATE TABLE watch_alerts (
    name        TEXT PRIMARY KEY,
    since       TEXT,
    value       BIGINT NOT NULL DEFAULT 0,
    raised_at   TEXT,
    told_at     TEXT,
    checked_at  TEXT NOT NULL
);
