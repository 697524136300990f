-- Re-runs that never mask a row twice. An in-place run records, table by table, the key of the
-- last row it has committed on its target. Each commit is recorded in two steps around the
-- target's COMMIT: first as pending, with the target transaction's id, then as committed. A crash
-- between the two leaves it pending, and whoever resumes asks the target (txid_status) whether
-- that transaction committed. A new execution of a job whose last one ended FAILED or CANCELLED
-- continues after those keys, unless it was submitted with startOver.
ALTER TABLE executions ADD COLUMN start_over boolean NOT NULL DEFAULT false;

CREATE TABLE execution_table_commits (
    execution_id   bigint NOT NULL REFERENCES executions ON DELETE CASCADE,
    table_name     text NOT NULL,
    -- The key of the last row committed on the target, in key order (null: none yet).
    committed_key  text[],
    -- A commit under way: the key of its last row and the target transaction committing it.
    pending_key    text[],
    pending_xid    bigint,
    PRIMARY KEY (execution_id, table_name),
    CONSTRAINT execution_table_commits_pending_whole CHECK ((pending_key IS NULL) = (pending_xid IS NULL))
);
