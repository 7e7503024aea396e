-- A placeholder for migration 0016, which another branch of issue 21 brings: migrations must be
-- numbered without a gap, and imported ideas are 0017. Delete this file (and its PostgreSQL
-- twin) when the real 0016 arrives; it changes nothing, so a database that ran it is the same.
SELECT 1;
