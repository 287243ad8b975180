-- Scheduled and withdrawn outbox batches (issue 10: the satisfaction survey goes
-- out through the outbox a day after resolution instead of waking its case).
-- not_before: the batch is not delivered before it (its next_attempt_at starts
-- there); until then it holds back no later batch of its case.
-- cancelled_at: a later record of the case withdrew the batch before it was
-- claimed. A withdrawn batch is settled (delivered_at is set with it, last_error
-- says 'cancelled'), so every query over undelivered rows passes it by and the
-- retention deletes it like a delivered one.
ALTER TABLE outbox ADD COLUMN not_before timestamptz, ADD COLUMN cancelled_at timestamptz;
-- NOT VALID: the check holds for every row written from now on, without scanning
-- the rows already there under the table's exclusive lock (they predate the
-- column, so their cancelled_at is NULL and they satisfy it anyway).
ALTER TABLE outbox ADD CONSTRAINT outbox_cancelled_is_settled
    CHECK (cancelled_at IS NULL OR delivered_at IS NOT NULL) NOT VALID;

---- create above / drop below ----

ALTER TABLE outbox DROP CONSTRAINT outbox_cancelled_is_settled;
ALTER TABLE outbox DROP COLUMN cancelled_at, DROP COLUMN not_before;
