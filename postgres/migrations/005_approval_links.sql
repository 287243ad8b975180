-- The single use of the signed approve and reject links of approval-request
-- emails (tierflow.ApprovalLink). One row per request sent to a tier: the approve
-- and the reject link of one email share it, so at most one of them decides.
-- A POST claims the row before it sends the decision ('claimed', fenced by
-- claimed_at), marks it 'used' once the case applied the decision, and deletes its
-- claim when the case refused it (the link changed nothing and may be tried again).
CREATE TABLE approval_links (
    case_id     text NOT NULL CHECK (case_id <> ''),
    approval_id text NOT NULL CHECK (approval_id <> ''),
    tier        smallint NOT NULL CHECK (tier BETWEEN 1 AND 4),
    decision    text NOT NULL CHECK (decision IN ('approve', 'reject')),
    state       text NOT NULL CHECK (state IN ('claimed', 'used')),
    claimed_at  timestamptz NOT NULL,
    used_at     timestamptz,
    PRIMARY KEY (case_id, approval_id, tier),
    CHECK ((state = 'used') = (used_at IS NOT NULL))
);

---- create above / drop below ----

DROP TABLE approval_links;
