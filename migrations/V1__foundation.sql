-- maskd's own schema: users and tokens, the masking model (Delphix resources), and executions.

CREATE TABLE settings (
    name  text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE users (
    user_id       bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('ADMIN', 'OPERATOR', 'AUDITOR')),
    created_time  timestamptz NOT NULL DEFAULT now()
);

-- Login tokens are stored only as SHA-256 hashes; last_used_time drives idle expiry.
CREATE TABLE login_tokens (
    token_hash     bytea PRIMARY KEY,
    user_id        bigint NOT NULL REFERENCES users ON DELETE CASCADE,
    created_time   timestamptz NOT NULL DEFAULT now(),
    last_used_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_tokens_user_id ON login_tokens (user_id);

CREATE TABLE applications (
    application_id   bigserial PRIMARY KEY,
    application_name text NOT NULL UNIQUE
);

CREATE TABLE environments (
    environment_id   bigserial PRIMARY KEY,
    environment_name text NOT NULL UNIQUE,
    application_id   bigint NOT NULL REFERENCES applications ON DELETE RESTRICT,
    purpose          text NOT NULL DEFAULT 'MASK'
);
CREATE INDEX environments_application_id ON environments (application_id);

CREATE TABLE database_connectors (
    database_connector_id bigserial PRIMARY KEY,
    connector_name        text NOT NULL,
    database_type         text NOT NULL DEFAULT 'POSTGRES',
    environment_id        bigint NOT NULL REFERENCES environments ON DELETE RESTRICT,
    host                  text NOT NULL,
    port                  integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    database_name         text NOT NULL,
    schema_name           text NOT NULL DEFAULT 'public',
    username              text NOT NULL,
    -- AES-256-GCM: 12-byte nonce followed by the ciphertext; NULL when no password.
    password_encrypted    bytea,
    UNIQUE (environment_id, connector_name)
);

CREATE TABLE database_rulesets (
    database_ruleset_id   bigserial PRIMARY KEY,
    ruleset_name          text NOT NULL,
    database_connector_id bigint NOT NULL REFERENCES database_connectors ON DELETE RESTRICT
);
CREATE INDEX database_rulesets_connector ON database_rulesets (database_connector_id);

CREATE TABLE table_metadata (
    table_metadata_id bigserial PRIMARY KEY,
    table_name        text NOT NULL,
    ruleset_id        bigint NOT NULL REFERENCES database_rulesets ON DELETE CASCADE,
    key_column        text,
    UNIQUE (ruleset_id, table_name)
);

CREATE TABLE column_metadata (
    column_metadata_id   bigserial PRIMARY KEY,
    column_name          text NOT NULL,
    table_metadata_id    bigint NOT NULL REFERENCES table_metadata ON DELETE CASCADE,
    data_type            text NOT NULL,
    column_length        integer,
    is_primary_key       boolean NOT NULL DEFAULT false,
    is_index             boolean NOT NULL DEFAULT false,
    is_foreign_key       boolean NOT NULL DEFAULT false,
    algorithm_name       text,
    domain_name          text,
    is_masking_attribute boolean NOT NULL DEFAULT false,
    UNIQUE (table_metadata_id, column_name),
    CONSTRAINT column_metadata_masked_needs_algorithm CHECK (NOT is_masking_attribute OR algorithm_name IS NOT NULL)
);

CREATE TABLE masking_jobs (
    masking_job_id      bigserial PRIMARY KEY,
    job_name            text NOT NULL,
    ruleset_id          bigint NOT NULL REFERENCES database_rulesets ON DELETE RESTRICT,
    feedback_size       integer NOT NULL DEFAULT 50000 CHECK (feedback_size > 0),
    job_description     text,
    multi_tenant        boolean NOT NULL DEFAULT false,
    on_the_fly_masking  boolean NOT NULL DEFAULT false,
    fail_immediately    boolean NOT NULL DEFAULT false,
    commit_size         integer NOT NULL DEFAULT 10000 CHECK (commit_size > 0),
    disable_constraints boolean NOT NULL DEFAULT false,
    disable_triggers    boolean NOT NULL DEFAULT false,
    drop_indexes        boolean NOT NULL DEFAULT false,
    batch_update        boolean NOT NULL DEFAULT true,
    created_by          text,
    created_time        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX masking_jobs_ruleset_id ON masking_jobs (ruleset_id);

CREATE TABLE executions (
    execution_id        bigserial PRIMARY KEY,
    -- RESTRICT: a job whose execution is still active can never be deleted under it.
    job_id              bigint NOT NULL REFERENCES masking_jobs ON DELETE RESTRICT,
    connector_type      text CHECK (connector_type IN ('DATABASE', 'FILE', 'VSAM')),
    source_connector_id bigint REFERENCES database_connectors ON DELETE SET NULL,
    target_connector_id bigint REFERENCES database_connectors ON DELETE SET NULL,
    status              text NOT NULL DEFAULT 'QUEUED'
                        CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'WARNING', 'FAILED', 'CANCELLED')),
    rows_masked         bigint NOT NULL DEFAULT 0,
    rows_total          bigint,
    bytes_processed     bigint,
    bytes_total         bigint,
    submit_time         timestamptz NOT NULL DEFAULT now(),
    start_time          timestamptz,
    end_time            timestamptz,
    -- Set by the cancel: whether the worker must restore SQL objects before it stops.
    cancel_graceful     boolean,
    cancel_time         timestamptz,
    -- The worker (instance) running it and its last heartbeat.
    worker_id           text,
    heartbeat_time      timestamptz,
    -- A finished or stopped execution always has its end_time.
    CHECK (status NOT IN ('SUCCEEDED', 'WARNING', 'FAILED') OR end_time IS NOT NULL),
    CHECK (status <> 'QUEUED' OR (start_time IS NULL AND end_time IS NULL))
);
-- At most one active execution (not yet stopped) per job: concurrent submits cannot both win.
CREATE UNIQUE INDEX executions_one_active_per_job ON executions (job_id) WHERE end_time IS NULL;
CREATE INDEX executions_job_id ON executions (job_id, execution_id);
CREATE INDEX executions_queued ON executions (execution_id) WHERE status = 'QUEUED';
CREATE INDEX executions_status ON executions (status, execution_id);

CREATE TABLE execution_components (
    execution_component_id bigserial PRIMARY KEY,
    execution_id           bigint NOT NULL REFERENCES executions ON DELETE CASCADE,
    component_name         text NOT NULL,
    status                 text NOT NULL DEFAULT 'QUEUED'
                           CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCEEDED', 'WARNING', 'FAILED', 'CANCELLED')),
    rows_masked            bigint NOT NULL DEFAULT 0,
    rows_total             bigint,
    start_time             timestamptz,
    end_time               timestamptz
);
CREATE INDEX execution_components_execution_id ON execution_components (execution_id, execution_component_id);

CREATE TABLE execution_events (
    execution_event_id     bigserial PRIMARY KEY,
    execution_id           bigint NOT NULL REFERENCES executions ON DELETE CASCADE,
    event_type             text NOT NULL,
    severity               text NOT NULL CHECK (severity IN ('INFO', 'WARNING', 'ERROR')),
    cause                  text,
    count                  bigint,
    time_stamp             timestamptz NOT NULL DEFAULT now(),
    execution_component_id bigint REFERENCES execution_components ON DELETE SET NULL,
    masked_object_name     text,
    algorithm_name         text
);
CREATE INDEX execution_events_execution_id ON execution_events (execution_id, execution_event_id);
