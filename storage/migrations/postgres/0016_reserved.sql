-- A placeholder for migration 0016: see SQLite's 0016_reserved.sql.
SELECT 1;
