-- The guarded cancel of a QUEUED execution, on the copy of maskd's executions.
\set id random(:first, :last)
UPDATE bench_copy.executions SET status = 'CANCELLED', end_time = now()
 WHERE execution_id = :id AND status = 'QUEUED' RETURNING *;
