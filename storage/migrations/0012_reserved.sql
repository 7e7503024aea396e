-- A placeholder for migration 0012, which another branch of issue 20 brings: migrations must be
-- numbered without a gap, and the team's tables are 0013. Delete this file (and its PostgreSQL
-- twin) when the real 0012 arrives; it changes nothing, so a database that ran it is the same.
SELECT 1;
