-- The staff load moves at commit (issue 10, an escalation storm). Every case
-- that escalates moves one unit of load from its old owner to its new one, and
-- a storm sends thousands of cases to the few people of one tier: their
-- staff_load rows are each transaction's hottest lock. Migration 009's triggers
-- took those locks at the record's first statement, the projection's upsert, and
-- held them through the rest of the record (its events, its outbox batches), so
-- the records of a storm queued behind each other for all of it. Deferred to the
-- commit, the same function runs last: the lock is held for the function and the
-- commit only. What it counts is unchanged (each row event still carries its
-- OLD and NEW), and so are the lock order (staff_id) and the TRUNCATE trigger.
--
-- Live database (deploy/RUNBOOK.md): DROP TRIGGER takes an exclusive lock on
-- cases for as long as this transaction, which reads no rows: writers wait for
-- an instant, and no write goes uncounted between the old triggers and the new.

DROP TRIGGER cases_staff_load_insert_delete ON cases;
DROP TRIGGER cases_staff_load_update ON cases;
CREATE CONSTRAINT TRIGGER cases_staff_load_insert_delete AFTER INSERT OR DELETE ON cases
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION cases_track_staff_load();
CREATE CONSTRAINT TRIGGER cases_staff_load_update AFTER UPDATE OF assignee, status ON cases
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.assignee IS DISTINCT FROM NEW.assignee OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION cases_track_staff_load();

---- create above / drop below ----

DROP TRIGGER cases_staff_load_update ON cases;
DROP TRIGGER cases_staff_load_insert_delete ON cases;
CREATE TRIGGER cases_staff_load_insert_delete AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_track_staff_load();
CREATE TRIGGER cases_staff_load_update AFTER UPDATE OF assignee, status ON cases
    FOR EACH ROW
    WHEN (OLD.assignee IS DISTINCT FROM NEW.assignee OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION cases_track_staff_load();
