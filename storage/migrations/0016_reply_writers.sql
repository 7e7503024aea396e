-- Which worker committed a turn's replies (issue 19): its name as in the leases table (host,
-- pid, a random tag). Another worker on the same host that finds that process gone (killed,
-- then maybe started again) sends the replies at once, rather than waiting SENDING_TIME for a
-- live worker that might still be sending them. NULL: written before this migration, or by a
-- worker on one SQLite file alone; those wait SENDING_TIME as before.
ALTER TABLE pending_replies ADD COLUMN worker TEXT;
