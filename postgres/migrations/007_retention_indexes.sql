-- Retention (TIERFLOW_OUTBOX_RETENTION, TIERFLOW_WEBHOOK_RETENTION): the worker
-- deletes settled rows past their retention a bounded batch at a time; these
-- indexes let each pass find the oldest without reading the whole table.
CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
-- A delivered row ages from its delivery, a dead one from its creation.
CREATE INDEX webhook_deliveries_settled ON webhook_deliveries ((coalesce(delivered_at, created_at)))
    WHERE status IN ('delivered', 'dead');

---- create above / drop below ----

DROP INDEX webhook_deliveries_settled;
DROP INDEX outbox_delivered;
