"""Every message's first stop (entry), someone new and their language, the commands and the
menu, and consents to news of one's ideas and to the lab's announcements (subscriptions)."""
