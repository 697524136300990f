-- customSql: a query the ADMIN writes for the source of an on-the-fly job, read in place of the
-- table (`SELECT <the target's columns> FROM (<customSql>) AS s`). The API lexes it like a
-- whereClause and has the ruleset's connector plan it before it is stored. In-place masking reads
-- the table itself, so an in-place job whose ruleset has a table with customSql is refused.
ALTER TABLE table_metadata ADD COLUMN custom_sql text CHECK (length(custom_sql) BETWEEN 1 AND 10000);
