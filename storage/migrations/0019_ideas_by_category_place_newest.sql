-- A similar-ideas lookup by neighbourhood reads the newest ideas of the category there
-- (storage/similar.py, MOST_CANDIDATES): with the id in the index the database walks it
-- backwards and stops at the limit, instead of sorting a busy neighbourhood's thousands.
DROP INDEX ideas_by_category_place;
CREATE INDEX ideas_by_category_place ON ideas (category, lower(location_text), id);
