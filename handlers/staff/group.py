"""The staff's Telegram group: the commands that make sense there (who may talk there at all
is the engine's: handlers/engine/group.py)."""

# Commands that make sense in the group (the rest are a resident's, for a private chat).
GROUP_ACTIONS = frozenset(("help", "cancel", "new_event", "broadcast", "ideas", "idea",
                           "stats", "digest", "export", "call",
                           "team", "team_add", "team_remove", "link_group"))  # fmt: skip
