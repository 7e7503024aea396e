-- Residents who joined an earlier idea as "the same problem" (issue 21): one row per person and
-- idea (joining twice adds nothing). What they added is kept with their support: a detail in
-- their words, a photo (a path under the media folder, and the platform's id of it). Erasing a
-- resident deletes their rows (and photos); the idea stays, with one supporter fewer.
CREATE TABLE idea_supports (
    idea_id      BIGINT NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    resident_id  BIGINT NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    detail       TEXT,
    photo_path   TEXT,
    photo_ref    TEXT,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (idea_id, resident_id)
);
CREATE INDEX idea_supports_by_resident ON idea_supports (resident_id);
