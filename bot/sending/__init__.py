"""The sender: every message Minga sends, paced per channel, replies before bulk work."""
