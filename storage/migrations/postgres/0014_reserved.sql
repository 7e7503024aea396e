-- A placeholder for migration 0014: see SQLite's 0014_reserved.sql.
SELECT 1;
