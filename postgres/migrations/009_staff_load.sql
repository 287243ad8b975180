-- The open-case load of each assignee (issue 10): PickAssignee runs on every case
-- opening, escalation and hand-over, and counting each candidate's open cases
-- visited every one of them. staff_load holds the count, one row per assignee,
-- kept by triggers on cases so that no write path (the record's upsert, an
-- operator's UPDATE or DELETE) can forget it: open_cases is the number of cases
-- whose assignee is that id (non-empty) and whose status is neither resolved nor
-- closed. A row may stay at 0. No foreign key: an assignee need not be in the
-- directory (staff), and staff rows are never deleted.
--
-- How this migration meets the rules for a live database (deploy/RUNBOOK.md:
-- a release adds, and never scans a big table under a lock that stops writes):
-- it adds a table and triggers, and no CHECK to an existing table. It does read
-- cases once, for the backfill, under the SHARE ROW EXCLUSIVE lock that CREATE
-- TRIGGER takes: reads go on, while writers of cases wait until the migration
-- commits (tern runs each migration in one transaction). That wait is what makes
-- the backfill exact, so the triggers come BEFORE it: a case written before the
-- lock is in the count, one written after goes through the triggers. The
-- backfill counts the open cases only (cases_open_assignee, 001, holds them):
-- the pause grows with the open cases, not with the whole table.

CREATE TABLE staff_load (
    staff_id   text PRIMARY KEY,
    open_cases bigint NOT NULL
);

-- The old row's case counts for its assignee if it was assigned and open; the
-- new row's likewise. When both count for the same assignee nothing changes.
-- Otherwise one statement moves the load, taking the rows' locks in staff_id
-- order, so that two cases handed over in opposite directions at once (A to B,
-- B to A) lock A then B both, and never wait for each other in a cycle.
CREATE FUNCTION cases_track_staff_load() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_owner text;
    new_owner text;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.assignee <> '' AND OLD.status NOT IN ('resolved', 'closed') THEN
        old_owner := OLD.assignee;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.assignee <> '' AND NEW.status NOT IN ('resolved', 'closed') THEN
        new_owner := NEW.assignee;
    END IF;
    IF old_owner IS NOT DISTINCT FROM new_owner THEN
        RETURN NULL;
    END IF;
    INSERT INTO staff_load AS l (staff_id, open_cases)
    SELECT d.staff_id, d.delta
    FROM (VALUES (old_owner, -1), (new_owner, 1)) AS d (staff_id, delta)
    WHERE d.staff_id IS NOT NULL
    ORDER BY d.staff_id
    ON CONFLICT (staff_id) DO UPDATE SET open_cases = l.open_cases + excluded.open_cases;
    RETURN NULL;
END
$$;

CREATE TRIGGER cases_staff_load_insert_delete AFTER INSERT OR DELETE ON cases
    FOR EACH ROW EXECUTE FUNCTION cases_track_staff_load();
-- The record's upsert sets every column: the WHEN clause spares the function
-- call on the records (most of them) that change neither.
CREATE TRIGGER cases_staff_load_update AFTER UPDATE OF assignee, status ON cases
    FOR EACH ROW
    WHEN (OLD.assignee IS DISTINCT FROM NEW.assignee OR OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION cases_track_staff_load();

-- TRUNCATE fires no row trigger: an emptied cases leaves nobody loaded.
CREATE FUNCTION cases_clear_staff_load() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM staff_load;
    RETURN NULL;
END
$$;
CREATE TRIGGER cases_staff_load_truncate AFTER TRUNCATE ON cases
    FOR EACH STATEMENT EXECUTE FUNCTION cases_clear_staff_load();

-- tern resets the session after each migration, which restores the pool's
-- statement timeout that Migrate lifted: the backfill must not be cut short by
-- it on a large upgrade (this transaction only).
SET LOCAL statement_timeout = 0;
INSERT INTO staff_load (staff_id, open_cases)
SELECT assignee, count(*) FROM cases
WHERE assignee <> '' AND status NOT IN ('resolved', 'closed')
GROUP BY assignee;

---- create above / drop below ----

DROP TRIGGER cases_staff_load_truncate ON cases;
DROP TRIGGER cases_staff_load_update ON cases;
DROP TRIGGER cases_staff_load_insert_delete ON cases;
DROP FUNCTION cases_clear_staff_load();
DROP FUNCTION cases_track_staff_load();
DROP TABLE staff_load;
