-- The execution engine: SQL objects a run disabled or dropped on a target, recorded before they are
-- touched so that any instance can restore them.
CREATE TABLE execution_sql_objects (
    sql_object_id  bigserial PRIMARY KEY,
    execution_id   bigint NOT NULL REFERENCES executions ON DELETE CASCADE,
    object_type    text NOT NULL CHECK (object_type IN ('TRIGGER', 'CONSTRAINT', 'INDEX')),
    object_name    text NOT NULL,
    table_name     text NOT NULL,
    disable_sql    text NOT NULL,
    restore_sql    text NOT NULL,
    -- For constraints: restored NOT VALID first, then validated (which fails if a run stopped
    -- part-way left rows that break it).
    validate_sql   text,
    -- RECORDED: about to be disabled (it may or may not have happened); DISABLED; RESTORED.
    state          text NOT NULL DEFAULT 'RECORDED' CHECK (state IN ('RECORDED', 'DISABLED', 'RESTORED')),
    recorded_time  timestamptz NOT NULL DEFAULT now(),
    restored_time  timestamptz
);
CREATE INDEX execution_sql_objects_execution_id ON execution_sql_objects (execution_id, sql_object_id);

-- Finding executions whose instance stopped heartbeating.
CREATE INDEX executions_unstopped ON executions (heartbeat_time) WHERE end_time IS NULL AND status IN ('RUNNING', 'CANCELLED');
