"""Sending: the sender (every message Minga sends, paced per channel, replies before bulk
work), the outbox worker that hands it the queued bulk rows, and the outbox policy (what
becomes of a row after a try, wake-ups, the staff hearing how a broadcast went)."""
