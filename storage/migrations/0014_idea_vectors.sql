-- Similar ideas matched by meaning (issue 21): each idea's sentence vector, per model, computed
-- once when the idea is filed or imported (bot/similar.py; handlers/similar packs it: int8 with
-- a float32 scale). A new model means new rows; the old model's are not read.
CREATE TABLE idea_vectors (
    idea_id INTEGER NOT NULL REFERENCES ideas (id) ON DELETE CASCADE,
    model   TEXT NOT NULL,
    vector  BLOB NOT NULL,
    PRIMARY KEY (idea_id, model)
);

-- The lookup narrows by category and place before it compares meanings: a box around a point,
-- or the neighbourhood as typed or picked (any case).
CREATE INDEX ideas_by_category_point ON ideas (category, latitude, longitude);
CREATE INDEX ideas_by_category_place ON ideas (category, lower(location_text));
