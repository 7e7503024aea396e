"""Minga's storage: SQLite through aiosqlite (a file, the default) or PostgreSQL through psycopg
(a postgresql:// URL), numbered SQL migrations for each, the same repositories on both."""
