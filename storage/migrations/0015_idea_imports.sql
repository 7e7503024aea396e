-- Ideas brought in with `minga ideas import` (issue 21): external_id is what makes a second
-- import of the same file add nothing. It holds the file's external_id, else the reference the
-- row came with, else a digest of the row's content; NULL for ideas filed in the chat. Imported
-- ideas belong to one placeholder resident (channel 'import'), who is never messaged.
ALTER TABLE ideas ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX ideas_by_external_id ON ideas (external_id) WHERE external_id IS NOT NULL;
