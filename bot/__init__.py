"""Minga's wiring and edges: configuration, CLI, composition root and channel adapters."""
