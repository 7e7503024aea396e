-- Ideas filed as "mine is different" that still look alike (issue 21): the new idea, the
-- earlier one it was offered, and how alike they scored. The digest lists the open pairs;
-- marking one a duplicate of the other (the staff's existing merge), or dismissing the pair,
-- sets resolved_at.
CREATE TABLE possible_duplicates (
    idea_id      BIGINT NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    other_id     BIGINT NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    score        DOUBLE PRECISION NOT NULL,
    created_at   TEXT NOT NULL,
    resolved_at  TEXT,
    PRIMARY KEY (idea_id, other_id)
);
CREATE INDEX possible_duplicates_open ON possible_duplicates (created_at) WHERE resolved_at IS NULL;
