-- A placeholder for migration 0012: see SQLite's 0012_reserved.sql.
SELECT 1;
