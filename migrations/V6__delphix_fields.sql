-- The rest of Delphix's fields of table metadata, column metadata and masking jobs. Fields maskd
-- cannot honour yet are refused by the API and served as null (or their only value), so they have
-- no column here.

-- SQL the ADMIN writes for the target: only the rows matching it are masked. The API has the target
-- plan a query with it before it is stored, and refuses one that could end the clause.
ALTER TABLE table_metadata ADD COLUMN where_clause text;

-- isProfilerWritable: whether a profile job may change the column's domain and algorithm.
ALTER TABLE column_metadata
    ADD COLUMN is_profiler_writable boolean NOT NULL DEFAULT true,
    ADD COLUMN notes text,
    ADD COLUMN is_identity boolean NOT NULL DEFAULT false;

ALTER TABLE masking_jobs
    -- Tables of one execution masked at once, each on its own target connection.
    ADD COLUMN num_input_streams integer NOT NULL DEFAULT 1 CHECK (num_input_streams > 0),
    -- Stored and answered; they tune Delphix's own runtime and have no effect in maskd.
    ADD COLUMN max_memory integer CHECK (max_memory > 0),
    ADD COLUMN min_memory integer CHECK (min_memory > 0),
    ADD COLUMN stream_row_limit integer CHECK (stream_row_limit >= 0),
    -- MaskingJobScript objects, {"name": ..., "contents": ...}: SQL run on the target before the
    -- first table and after the last.
    ADD COLUMN prescript jsonb CHECK (jsonb_typeof(prescript) = 'object'),
    ADD COLUMN postscript jsonb CHECK (jsonb_typeof(postscript) = 'object');
