-- A new QUEUED execution of a job without one (a random free job; one already taken does nothing),
-- on the copy of maskd's executions.
\set id random(:first, :last)
INSERT INTO bench_copy.executions (job_id) VALUES (:id)
    ON CONFLICT (job_id) WHERE end_time IS NULL DO NOTHING RETURNING *;
