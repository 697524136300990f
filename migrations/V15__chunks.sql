-- Big tables split into key ranges (chunks) that any free worker of any instance claims. The
-- execution's own worker plans a table's chunks (closed), disables what its options name, then
-- opens them; a worker claims the next open chunk that no live worker holds with one guarded
-- statement (FOR UPDATE SKIP LOCKED). A chunk's commits are recorded like a table's
-- (execution_table_commits): pending with the target transaction's id before the COMMIT, committed
-- after, settled with txid_status by whoever finds one pending. A chunk held by a worker whose
-- heartbeat lapsed is claimed again by another, which goes on after what was committed.
CREATE TABLE execution_chunks (
    chunk_id        bigserial PRIMARY KEY,
    execution_id    bigint NOT NULL REFERENCES executions ON DELETE CASCADE,
    table_name      text NOT NULL,
    chunk_no        integer NOT NULL,
    -- The key column the run reads the table by (null: its primary key).
    key_column      text,
    -- The range: rows after key_after (null: from the first), up to and including key_last (null:
    -- to the last), in key order.
    key_after       text[],
    key_last        text[],
    -- Claimable once the table's turn has come (its triggers, constraints, indexes dealt with).
    open            boolean NOT NULL DEFAULT false,
    done            boolean NOT NULL DEFAULT false,
    -- The worker holding it (once done, the one that finished it), and when it last said it is
    -- alive; claims counts the claims, so a
    -- worker that lost a chunk cannot record anything for it.
    worker_id       text,
    heartbeat_time  timestamptz,
    claims          integer NOT NULL DEFAULT 0,
    -- Progress within the range: the last key committed, and a commit under way.
    committed_key   text[],
    pending_key     text[],
    pending_xid     bigint,
    pending_rows    bigint,
    -- Rows of this execution committed, and committed or in progress (what rowsMasked sums).
    rows_committed  bigint NOT NULL DEFAULT 0,
    rows_done       bigint NOT NULL DEFAULT 0,
    -- Why the worker holding it could not go on; the execution fails with it.
    error           text,
    UNIQUE (execution_id, table_name, chunk_no),
    CONSTRAINT execution_chunks_pending_whole CHECK (
        (pending_key IS NULL) = (pending_xid IS NULL) AND (pending_key IS NULL) = (pending_rows IS NULL)),
    CONSTRAINT execution_chunks_held CHECK ((worker_id IS NULL) OR (heartbeat_time IS NOT NULL))
);

-- Finding the next claimable chunk of running executions.
CREATE INDEX execution_chunks_claimable ON execution_chunks (execution_id, chunk_id)
    WHERE open AND NOT done AND error IS NULL;

-- An in-place run records, once it has planned its tables (every table's resume point and
-- chunks recorded), that it has: a re-run continues from the last execution that got this far,
-- skipping those that ended before (a cancel while QUEUED, a target that could not be reached),
-- which changed no row. Executions of earlier versions that started had recorded theirs.
ALTER TABLE executions ADD COLUMN plan_recorded boolean NOT NULL DEFAULT false;
UPDATE executions SET plan_recorded = true WHERE start_time IS NOT NULL;

-- A run's commits count their rows, so that rowsMasked, once the execution has ended, says exactly
-- how many rows it committed (a cancel rolls back the batch in flight).
ALTER TABLE execution_table_commits ADD COLUMN rows_committed bigint NOT NULL DEFAULT 0;
ALTER TABLE execution_table_commits ADD COLUMN pending_rows bigint;
