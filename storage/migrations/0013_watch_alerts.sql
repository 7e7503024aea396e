-- Alerts to the staff group (issue 20): each watched condition ("unreachable:telegram",
-- "backlog", "broadcast:12", "disk", "errors") has at most one row, so that it is raised once
-- and its recovery told once, across restarts and whichever worker runs the checks.
-- since: when the condition was first seen (NULL: not now); value: what was measured at the
-- last check (the backlog, a broadcast's messages left), to tell growing from shrinking;
-- raised_at: when it became an alert; told_at: when its message was queued (NULL while the
-- staff group's platform is unreachable: it is told once it is back, with the recovery).
CREATE TABLE watch_alerts (
    name        TEXT PRIMARY KEY,
    since       TEXT,
    value       INTEGER NOT NULL DEFAULT 0,
    raised_at   TEXT,
    told_at     TEXT,
    checked_at  TEXT NOT NULL
) WITHOUT ROWID;
