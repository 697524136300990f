-- Profile jobs beside masking jobs, in one id space: POST /executions {"jobId"} runs either. Every
-- job has a row in jobs (its id and kind), kept by triggers on the two job tables, and executions
-- refer to it. Job ids come from one sequence, masking jobs' own until now.

ALTER SEQUENCE masking_jobs_masking_job_id_seq RENAME TO job_ids;

CREATE TABLE jobs (
    job_id bigint PRIMARY KEY,
    kind   text NOT NULL CHECK (kind IN ('MASKING', 'PROFILE'))
);
INSERT INTO jobs (job_id, kind) SELECT masking_job_id, 'MASKING' FROM masking_jobs;

ALTER TABLE executions DROP CONSTRAINT executions_job_id_fkey;
ALTER TABLE executions ADD CONSTRAINT executions_job_id_fkey
    FOREIGN KEY (job_id) REFERENCES jobs ON DELETE RESTRICT;

CREATE TABLE profile_jobs (
    profile_job_id          bigint PRIMARY KEY DEFAULT nextval('job_ids'),
    job_name                text NOT NULL,
    profile_set_id          bigint NOT NULL REFERENCES profile_sets ON DELETE RESTRICT,
    ruleset_id              bigint NOT NULL REFERENCES database_rulesets ON DELETE RESTRICT,
    feedback_size           integer NOT NULL DEFAULT 50000 CHECK (feedback_size > 0),
    job_description         text,
    max_memory              integer CHECK (max_memory > 0),
    min_memory              integer CHECK (min_memory > 0),
    multi_tenant            boolean NOT NULL DEFAULT false,
    num_input_streams       integer NOT NULL DEFAULT 1 CHECK (num_input_streams > 0),
    -- Whether a column that several expressions or validators find is profiled by all of them
    -- (true: the one with the most evidence wins) or by the first that finds it.
    multiple_profiler_check boolean NOT NULL DEFAULT false,
    created_by              text,
    created_time            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profile_jobs_ruleset_id ON profile_jobs (ruleset_id);
CREATE INDEX profile_jobs_profile_set_id ON profile_jobs (profile_set_id);

-- The jobs row of a job is made with it and goes with it (a job with an execution that has not
-- stopped cannot go: executions' foreign key refuses).
-- TG_ARGV: the kind, and the table's id column.
CREATE FUNCTION job_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO jobs (job_id, kind) VALUES ((to_jsonb(NEW) ->> TG_ARGV[1])::bigint, TG_ARGV[0]);
    RETURN NEW;
END $$;
CREATE FUNCTION job_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM jobs WHERE job_id = (to_jsonb(OLD) ->> TG_ARGV[0])::bigint;
    RETURN OLD;
END $$;
CREATE TRIGGER masking_job_added BEFORE INSERT ON masking_jobs
    FOR EACH ROW EXECUTE FUNCTION job_added('MASKING', 'masking_job_id');
CREATE TRIGGER masking_job_removed AFTER DELETE ON masking_jobs
    FOR EACH ROW EXECUTE FUNCTION job_removed('masking_job_id');
CREATE TRIGGER profile_job_added BEFORE INSERT ON profile_jobs
    FOR EACH ROW EXECUTE FUNCTION job_added('PROFILE', 'profile_job_id');
CREATE TRIGGER profile_job_removed AFTER DELETE ON profile_jobs
    FOR EACH ROW EXECUTE FUNCTION job_removed('profile_job_id');

-- What a profile run found, one row per column it profiled.
CREATE TABLE profile_results (
    profile_result_id  bigserial PRIMARY KEY,
    execution_id       bigint NOT NULL REFERENCES executions ON DELETE CASCADE,
    column_metadata_id bigint REFERENCES column_metadata ON DELETE SET NULL,
    table_name         text NOT NULL,
    column_name        text NOT NULL,
    -- The domain found (NULL: none), and by what: an expression's name or a validator's.
    domain_name        text,
    found_by           text,
    -- 'COLUMN_NAME' or 'DATA'.
    found_in           text CHECK (found_in IN ('COLUMN_NAME', 'DATA')),
    values_sampled     bigint NOT NULL,
    values_matched     bigint NOT NULL,
    -- Whether the column's metadata took the finding (false when isProfilerWritable is false).
    applied            boolean NOT NULL,
    UNIQUE (execution_id, column_name, table_name)
);
