-- Ideas brought in with `minga ideas import`: see SQLite's 0015_idea_imports.sql.
ALTER TABLE ideas ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX ideas_by_external_id ON ideas (external_id) WHERE external_id IS NOT NULL;
