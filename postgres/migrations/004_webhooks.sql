-- Outbound webhooks (integrations.md): subscriptions and one delivery per
-- (subscription, case event). Deliveries are created by a trigger on the audit log,
-- in the transaction that records the event, so no event is ever missed and a
-- retried record creates nothing twice.

CREATE TABLE webhook_subscriptions (
    id                         text PRIMARY KEY CHECK (id ~ '^wh_[A-Za-z0-9]{8,64}$'),
    owner_id                   text NOT NULL CHECK (owner_id <> ''),
    -- The owner's scope when it subscribed: only these sources' cases are
    -- delivered. Empty means every source.
    allowed_sources            text[] NOT NULL DEFAULT '{}',
    url                        text NOT NULL CHECK (url ~ '^https?://'),
    -- "case.*" or exact webhook types ("case.escalated").
    events                     text[] NOT NULL CHECK (cardinality(events) > 0),
    description                text NOT NULL DEFAULT '',
    -- The whsec_ secret sealed with AES-256-GCM under a key derived from the codec
    -- key secret_key_id ('' only in development without codec keys: plaintext).
    secret_key_id              text NOT NULL DEFAULT '',
    secret                     bytea NOT NULL,
    previous_secret_key_id     text NOT NULL DEFAULT '',
    previous_secret            bytea,
    previous_secret_expires_at timestamptz,
    status                     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    disabled_reason            text NOT NULL DEFAULT '',
    created_at                 timestamptz NOT NULL DEFAULT now(),
    updated_at                 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_subscriptions_owner ON webhook_subscriptions (owner_id, created_at);

CREATE TABLE webhook_deliveries (
    subscription_id  text NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    case_id          text NOT NULL,
    seq              bigint NOT NULL CHECK (seq > 0),
    event_type       text NOT NULL CHECK (event_type LIKE 'case.%'),
    -- Stable per (subscription, case, seq): the same on every attempt.
    webhook_id       text NOT NULL UNIQUE,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'failing', 'delivered', 'dead')),
    attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    last_status      integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    -- The case as the event left it (source, external_id, assignee, deadlines),
    -- taken from the projection written in the same transaction.
    case_snapshot    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(case_snapshot) = 'object'),
    -- The dispatcher has woken this pair's delivery workflow for this row.
    dispatched       boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    first_attempt_at timestamptz,
    next_attempt_at  timestamptz,
    delivered_at     timestamptz,
    PRIMARY KEY (subscription_id, case_id, seq),
    FOREIGN KEY (case_id, seq) REFERENCES case_events (case_id, seq) ON DELETE CASCADE
);
-- What is left to send, per pair, lowest seq first.
CREATE INDEX webhook_deliveries_open ON webhook_deliveries (subscription_id, case_id, seq)
    WHERE status IN ('pending', 'failing');
-- What the dispatcher has not woken yet.
CREATE INDEX webhook_deliveries_undispatched ON webhook_deliveries (subscription_id, case_id)
    WHERE NOT dispatched;
CREATE INDEX webhook_deliveries_case ON webhook_deliveries (case_id, seq);

-- The webhook-id of (subscription, case, seq): stable, the same on every attempt
-- and every redelivery.
CREATE FUNCTION webhook_delivery_id(subscription_id text, case_id text, seq bigint) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$ SELECT 'msg_' || subscription_id || '_' || md5(case_id) || '_' || seq $$;

-- What a delivery tells of the case besides the event: no customer data.
CREATE FUNCTION webhook_case_snapshot(c cases) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('source', c.source, 'external_id', c.external_id, 'assignee', c.assignee,
        'deadlines', coalesce(c.view -> 'deadlines', '{}'::jsonb)) $$;

-- One pending delivery per active subscription that matches the event's type and
-- whose scope holds the case's source, then a wake-up for the dispatcher
-- (delivered at commit). The cases row is written before its events
-- (postgres/record.go), so its source is known here.
CREATE FUNCTION webhook_fan_out() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    webhook_type text := 'case.' || NEW.type;
    target record;
BEGIN
    FOR target IN
        INSERT INTO webhook_deliveries (subscription_id, case_id, seq, event_type, webhook_id, case_snapshot)
        SELECT s.id, NEW.case_id, NEW.seq, webhook_type, webhook_delivery_id(s.id, NEW.case_id, NEW.seq),
               webhook_case_snapshot(c)
        FROM webhook_subscriptions s
        JOIN cases c ON c.id = NEW.case_id
        WHERE s.status = 'active'
          AND ('case.*' = ANY (s.events) OR webhook_type = ANY (s.events))
          AND (cardinality(s.allowed_sources) = 0 OR c.source = ANY (s.allowed_sources))
        ON CONFLICT DO NOTHING
        RETURNING subscription_id
    LOOP
        PERFORM pg_notify('tierflow_webhooks', target.subscription_id || ' ' || NEW.case_id);
    END LOOP;
    RETURN NULL;
END;
$$;

CREATE TRIGGER case_events_webhook_fan_out AFTER INSERT ON case_events
    FOR EACH ROW EXECUTE FUNCTION webhook_fan_out();

---- create above / drop below ----

DROP TRIGGER case_events_webhook_fan_out ON case_events;
DROP FUNCTION webhook_fan_out();
DROP FUNCTION webhook_case_snapshot(cases);
DROP FUNCTION webhook_delivery_id(text, text, bigint);
DROP TABLE webhook_deliveries;
DROP TABLE webhook_subscriptions;
