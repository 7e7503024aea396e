-- Which worker committed a turn's replies: see SQLite's 0016_reply_writers.sql.
ALTER TABLE pending_replies ADD COLUMN worker TEXT;
