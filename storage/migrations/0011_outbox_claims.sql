-- Outbox claims (issue 19): several `minga run` workers share one database, and each message
-- must go out once. A worker claims the due rows it is about to send (claimed_by: which
-- process, for the operator; claimed_until: when the claim lapses) and renews the claims of
-- what it still has in flight. A row whose claim has lapsed (its worker died) is due again.
-- Rows written before this migration have no claim: they are due as before.
ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
ALTER TABLE outbox ADD COLUMN claimed_until TEXT;
