"""Minga's storage: one SQLite database through aiosqlite, numbered SQL migrations, repositories."""
