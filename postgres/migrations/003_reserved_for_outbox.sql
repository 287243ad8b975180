-- Placeholder on the webhooks branch only: migration 3 is the email outbox
-- (branch outbox, 003_outbox.sql). tern needs the sequence unbroken, so this empty
-- step stands in for it here. DELETE THIS FILE WHEN MERGING (with both files
-- present tern refuses to start: "Duplicate migration 3").
SELECT 1;

---- create above / drop below ----

SELECT 1;
