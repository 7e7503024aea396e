"""What the lab's team does in chat: create events, send broadcasts. Every entry checks the
caller against the configured staff ids."""
