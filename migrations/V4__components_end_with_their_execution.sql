-- Finishing an execution and ending its components used to be two statements, and a failure of the
-- second could leave components RUNNING under an ended execution. They are one statement now; this
-- ends the components such a failure left, as their execution ended.
UPDATE execution_components c
   SET status = CASE WHEN c.status = 'QUEUED' OR e.status = 'CANCELLED' THEN 'CANCELLED' ELSE e.status END,
       end_time = e.end_time
  FROM executions e
 WHERE e.execution_id = c.execution_id AND e.end_time IS NOT NULL AND c.end_time IS NULL;

-- An ended component always has its end_time.
ALTER TABLE execution_components
    ADD CONSTRAINT execution_components_ended_have_end_time
    CHECK (status IN ('QUEUED', 'RUNNING') OR end_time IS NOT NULL);
