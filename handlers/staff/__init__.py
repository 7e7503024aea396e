"""What the lab's team does in chat: the ideas view and triage, the daily digest and stats,
alerts, and every staff button ("st:..."). Every entry checks the caller against the staff
ids. The staff's broadcasts (/difundir) live in outbound/, their exports (/exportar) in
exports/."""
