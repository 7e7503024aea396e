"""What the lab's team does in chat: the ideas view and triage, the daily digest and stats,
broadcasts, exports in chat, alerts. Every entry checks the caller against the staff ids."""
