---- tern: disable-tx ----
-- The outbox's backlog gauge (OutboxStats, every few seconds on every worker)
-- counts the undelivered batches that are due. It read every undelivered row,
-- the scheduled ones too (each running case has its warnings and, once
-- resolved, its survey written ahead), so with 100,000 open cases it would
-- read 100,000 rows every few seconds on an idle system. It now reads the due
-- rows by outbox_due and the rows waiting to be tried again by this index:
-- rows that were attempted and wait for their next attempt, a few at most.
-- Built CONCURRENTLY, outside a transaction: records and mailers keep writing
-- the outbox while it is built (deploy/RUNBOOK.md, section 7). A build cut
-- short leaves an invalid index behind; the migration then runs again from the
-- start, so it drops any first.
DROP INDEX CONCURRENTLY IF EXISTS outbox_retrying;
CREATE INDEX CONCURRENTLY outbox_retrying ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND attempts > 0;

---- create above / drop below ----
---- tern: disable-tx ----

DROP INDEX CONCURRENTLY IF EXISTS outbox_retrying;
