---- tern: disable-tx ----
-- The outbox's backlog gauge (OutboxStats, every few seconds on every worker)
-- counts the undelivered batches that are due: not scheduled, or scheduled for
-- a time that has come. It read every undelivered row, the scheduled ones too
-- (each running case has its warnings and, once resolved, its survey written
-- ahead), so with 100,000 open cases it would read 100,000 rows every few
-- seconds on an idle system. This index holds the undelivered rows by when
-- they are due from, so the gauge reads a range that leaves the scheduled rows
-- out.
-- Built CONCURRENTLY, outside a transaction: records and mailers keep writing
-- the outbox while it is built (deploy/RUNBOOK.md, section 7). A build cut
-- short leaves an invalid index behind; the migration then runs again from the
-- start, so it drops any first.
DROP INDEX CONCURRENTLY IF EXISTS outbox_due_from;
CREATE INDEX CONCURRENTLY outbox_due_from ON outbox ((coalesce(not_before, '-infinity'::timestamptz)))
    WHERE delivered_at IS NULL;

---- create above / drop below ----
---- tern: disable-tx ----

DROP INDEX CONCURRENTLY IF EXISTS outbox_due_from;
