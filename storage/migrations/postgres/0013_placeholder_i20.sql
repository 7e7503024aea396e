-- PLACEHOLDER so that 0015 applies on this branch alone (migrations are numbered 1, 2, 3...):
-- the lead drops this file when the other branches of issue 20 bring their 0013.
SELECT 1;
