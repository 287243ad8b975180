-- When a webhook subscription was disabled (72 h of failures, or a 410). While it
-- is disabled the fan-out skips it, so a redelivery backfills every matching event
-- recorded since then (postgres/webhooks.go, backfillSinceDisabledSQL) and clears it.
ALTER TABLE webhook_subscriptions ADD COLUMN disabled_at timestamptz;

-- Subscriptions disabled before this column existed: no delivery row was ever
-- deleted before this release, so every event since the subscription was created
-- that has no row is one the fan-out skipped, and backfilling from created_at
-- recovers exactly those.
UPDATE webhook_subscriptions SET disabled_at = created_at WHERE status = 'disabled';

ALTER TABLE webhook_subscriptions ADD CONSTRAINT webhook_subscriptions_disabled_at
    CHECK ((status = 'disabled') = (disabled_at IS NOT NULL));

---- create above / drop below ----

ALTER TABLE webhook_subscriptions DROP CONSTRAINT webhook_subscriptions_disabled_at;
ALTER TABLE webhook_subscriptions DROP COLUMN disabled_at;
