-- A placeholder for migration 0015: see SQLite's 0015_reserved.sql.
SELECT 1;
