-- A point select of one execution, on the copy of maskd's executions.
\set id random(:first, :last)
SELECT * FROM bench_copy.executions WHERE execution_id = :id;
