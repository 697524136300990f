-- Seeds maskd's schema for bench/bench.py api: :rows jobs with one QUEUED execution each, :free
-- jobs without one (for submits), all on ruleset :ruleset; then a copy of the executions, with the
-- same columns, defaults, checks and indexes, for pgbench to work on.
INSERT INTO masking_jobs (job_name, ruleset_id)
SELECT 'bench ' || g, :ruleset FROM generate_series(1, :rows + :free) g;

INSERT INTO executions (job_id)
SELECT masking_job_id FROM masking_jobs WHERE ruleset_id = :ruleset ORDER BY masking_job_id LIMIT :rows;

CREATE SCHEMA bench_copy;
CREATE TABLE bench_copy.executions (LIKE public.executions INCLUDING ALL);
INSERT INTO bench_copy.executions SELECT * FROM public.executions;

VACUUM ANALYZE masking_jobs;
VACUUM ANALYZE executions;
VACUUM ANALYZE bench_copy.executions;
