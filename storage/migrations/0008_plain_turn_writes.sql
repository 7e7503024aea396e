-- A turn's writes are plain statements in one transaction now (storage/turns.py), and the
-- resident's turn columns are listed once (storage/residents.py): the view and its trigger go.
-- What the trigger did, clearing "unreachable" when someone writes, ResidentRepository.save_turn
-- does, and says why.
DROP TRIGGER IF EXISTS turn_writes_insert;
DROP VIEW IF EXISTS turn_writes;
