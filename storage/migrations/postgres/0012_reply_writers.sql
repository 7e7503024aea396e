-- Which worker committed a turn's replies: see SQLite's 0012_reply_writers.sql.
ALTER TABLE pending_replies ADD COLUMN worker TEXT;
