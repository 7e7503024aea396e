-- A placeholder on branch i19-web only, so that its 0010 numbers on: branch i19-durable adds
-- the real 0009 under this same name, and at the merge its file replaces this one.
SELECT 1;
