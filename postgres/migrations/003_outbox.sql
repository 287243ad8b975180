-- The email outbox: each recorded transition's emails, written in the same
-- transaction as its events, delivered later by the mailer workflow.
-- (case_id, seq) is unique, so a retried record writes its batch once. case_hash
-- is tierflow.OutboxHash(case_id): a mailer serves the rows whose hash falls in
-- its shard. A row is leased while it is delivered (attempts is the lease's
-- fencing token) and kept once delivered, for audit.
CREATE TABLE outbox (
    id              bigserial PRIMARY KEY,
    case_id         text NOT NULL CHECK (case_id <> ''),
    seq             bigint NOT NULL CHECK (seq > 0),
    case_hash       bigint NOT NULL CHECK (case_hash >= 0),
    batch           jsonb NOT NULL CHECK (jsonb_typeof(batch) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    leased_until    timestamptz,
    delivered_at    timestamptz,
    last_error      text,
    UNIQUE (case_id, seq)
);
-- What is due, and what a case still has undelivered (order within a case).
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL;
CREATE INDEX outbox_undelivered_case ON outbox (case_id, seq) WHERE delivered_at IS NULL;

---- create above / drop below ----

DROP TABLE outbox;
