-- The durable record of cases: Temporal history expires, this does not.
-- CHECK constraints repeat the domain's rules so that bad data is refused by the
-- database too, whoever writes it.

-- Staff directory: who serves which tier and department.
CREATE TABLE staff (
    id          text PRIMARY KEY CHECK (id <> ''),
    name        text NOT NULL CHECK (name <> ''),
    email       text NOT NULL CHECK (email LIKE '_%@_%'),
    role        text NOT NULL CHECK (role IN ('agent', 'specialist', 'supervisor', 'executive', 'integration', 'viewer')),
    tier        smallint NOT NULL CHECK (tier BETWEEN 1 AND 4),
    -- Empty means every department.
    departments text[] NOT NULL DEFAULT '{}',
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_active_tier ON staff (tier) WHERE active;

-- Current state of each case, for lists and reports. view holds the whole CaseView;
-- the columns are the parts that are filtered, grouped or counted.
CREATE TABLE cases (
    id                    text PRIMARY KEY CHECK (id <> ''),
    seq                   bigint NOT NULL CHECK (seq > 0),
    status                text NOT NULL CHECK (status IN ('open', 'in_progress', 'awaiting_customer', 'awaiting_approval', 'resolved', 'closed')),
    tier                  smallint NOT NULL CHECK (tier BETWEEN 1 AND 4),
    start_tier            smallint NOT NULL CHECK (start_tier BETWEEN 1 AND 4),
    priority              text NOT NULL CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
    category              text NOT NULL DEFAULT '',
    department            text NOT NULL DEFAULT '',
    assignee              text,
    source                text NOT NULL DEFAULT '',
    external_id           text NOT NULL DEFAULT '',
    breached              boolean NOT NULL DEFAULT false,
    close_target_breached boolean NOT NULL DEFAULT false,
    escalations           integer NOT NULL DEFAULT 0 CHECK (escalations >= 0),
    reopens               integer NOT NULL DEFAULT 0 CHECK (reopens >= 0),
    opened_at             timestamptz NOT NULL,
    escalated_at          timestamptz,
    resolved_at           timestamptz,
    closed_at             timestamptz,
    updated_at            timestamptz NOT NULL DEFAULT now(),
    view                  jsonb NOT NULL CHECK (jsonb_typeof(view) = 'object')
);
-- Keyset pagination of lists (newest first) and the KPI window.
CREATE INDEX cases_opened ON cases (opened_at DESC, id DESC);
CREATE INDEX cases_status ON cases (status, opened_at DESC);
CREATE INDEX cases_tier ON cases (tier, opened_at DESC);
CREATE INDEX cases_source_external ON cases (source, external_id);
-- Load of each assignee, for PickAssignee.
CREATE INDEX cases_open_assignee ON cases (assignee) WHERE status NOT IN ('resolved', 'closed');

-- Append-only audit log. (case_id, seq) is unique, so recording an event twice is
-- harmless. Money in details is a non-negative integer of minor units plus an ISO
-- currency code.
CREATE TABLE case_events (
    case_id          text NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    seq              bigint NOT NULL CHECK (seq > 0),
    type             text NOT NULL CHECK (type <> ''),
    at               timestamptz NOT NULL,
    actor_id         text NOT NULL CHECK (actor_id <> ''),
    actor_name       text NOT NULL DEFAULT '',
    actor_role       text NOT NULL DEFAULT '',
    actor_tier       smallint NOT NULL DEFAULT 0 CHECK (actor_tier BETWEEN 0 AND 4),
    tier             smallint NOT NULL CHECK (tier BETWEEN 1 AND 4),
    from_tier        smallint CHECK (from_tier BETWEEN 1 AND 4),
    status           text NOT NULL CHECK (status IN ('open', 'in_progress', 'awaiting_customer', 'awaiting_approval', 'resolved', 'closed')),
    department       text NOT NULL DEFAULT '',
    reason           text NOT NULL DEFAULT '',
    summary          text NOT NULL DEFAULT '',
    customer_message text NOT NULL DEFAULT '',
    details          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    recorded_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, seq),
    CONSTRAINT case_events_amount_cents CHECK (
        NOT details ? 'amount_cents' OR details ->> 'amount_cents' ~ '^[0-9]{1,18}$'),
    CONSTRAINT case_events_currency CHECK (
        NOT details ? 'amount_cents' OR details ->> 'currency' ~ '^[A-Z]{3}$')
);
CREATE INDEX case_events_type ON case_events (type, case_id);

-- Customer satisfaction answers, one per survey_answered event.
CREATE TABLE survey_responses (
    case_id     text NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    event_seq   bigint NOT NULL,
    score       smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    resolved    boolean,
    comment     text NOT NULL DEFAULT '',
    answered_at timestamptz NOT NULL,
    PRIMARY KEY (case_id, event_seq),
    FOREIGN KEY (case_id, event_seq) REFERENCES case_events (case_id, seq) ON DELETE CASCADE
);

-- Notification ledger: every message goes out at most once per key.
CREATE TABLE notifications (
    key                 text PRIMARY KEY CHECK (key <> ''),
    case_id             text NOT NULL,
    kind                text NOT NULL CHECK (kind <> ''),
    audience            text NOT NULL CHECK (audience IN ('customer', 'staff')),
    recipients          integer NOT NULL DEFAULT 0 CHECK (recipients >= 0),
    state               text NOT NULL CHECK (state IN ('new', 'sending', 'sent', 'failed')),
    provider_message_id text NOT NULL DEFAULT '',
    error               text NOT NULL DEFAULT '',
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_case ON notifications (case_id);
-- Messages whose outcome is unknown or failed, for drills and operators.
CREATE INDEX notifications_unsettled ON notifications (updated_at) WHERE state IN ('sending', 'failed');

-- Dev mailbox: emails kept instead of sent when no provider is configured.
CREATE TABLE mailbox (
    id         bigserial PRIMARY KEY,
    key        text NOT NULL UNIQUE CHECK (key <> ''),
    case_id    text NOT NULL DEFAULT '',
    kind       text NOT NULL DEFAULT '',
    recipients text[] NOT NULL DEFAULT '{}',
    subject    text NOT NULL DEFAULT '',
    text       text NOT NULL DEFAULT '',
    html       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mailbox_case ON mailbox (case_id, id DESC);

---- create above / drop below ----

DROP TABLE mailbox;
DROP TABLE notifications;
DROP TABLE survey_responses;
DROP TABLE case_events;
DROP TABLE cases;
DROP TABLE staff;
