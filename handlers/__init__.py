"""What Minga says and does: channel-agnostic conversation flows (no platform imports here)."""
