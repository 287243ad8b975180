-- "unconfirmed": the provider may have the message (an attempt died after handing it
-- over, its answer was lost, a 5xx). It is never resent and is listed for a person to
-- check; until now such messages were "failed" with an "outcome unknown" reason.
ALTER TABLE notifications DROP CONSTRAINT notifications_state_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_state_check
    CHECK (state IN ('new', 'sending', 'sent', 'failed', 'unconfirmed'));
UPDATE notifications SET state = 'unconfirmed' WHERE state = 'failed' AND error LIKE 'outcome unknown%';
DROP INDEX notifications_unsettled;
CREATE INDEX notifications_unsettled ON notifications (updated_at) WHERE state IN ('sending', 'unconfirmed', 'failed');

---- create above / drop below ----

DROP INDEX notifications_unsettled;
CREATE INDEX notifications_unsettled ON notifications (updated_at) WHERE state IN ('sending', 'failed');
UPDATE notifications SET state = 'failed' WHERE state = 'unconfirmed';
ALTER TABLE notifications DROP CONSTRAINT notifications_state_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_state_check
    CHECK (state IN ('new', 'sending', 'sent', 'failed'));
