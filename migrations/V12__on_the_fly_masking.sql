-- On-the-fly masking: a masking job may read its rows from a source connector and write them,
-- masked, into the tables of the same name in its ruleset's (target) connector, emptying those
-- first when truncate_tables is set. A multi-tenant on-the-fly job may leave its source to each
-- execution (sourceConnectorId). Each rule is a CHECK, so that no statement, however it changes a
-- job, can leave it incoherent.
ALTER TABLE masking_jobs
    ADD COLUMN on_the_fly_source_connector_id bigint REFERENCES database_connectors ON DELETE RESTRICT,
    ADD COLUMN truncate_tables boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT masking_jobs_on_the_fly_needs_a_source
        CHECK (NOT on_the_fly_masking OR multi_tenant OR on_the_fly_source_connector_id IS NOT NULL),
    ADD CONSTRAINT masking_jobs_source_only_on_the_fly
        CHECK (on_the_fly_masking OR on_the_fly_source_connector_id IS NULL),
    ADD CONSTRAINT masking_jobs_truncate_only_on_the_fly
        CHECK (on_the_fly_masking OR NOT truncate_tables);
CREATE INDEX masking_jobs_on_the_fly_source ON masking_jobs (on_the_fly_source_connector_id)
    WHERE on_the_fly_source_connector_id IS NOT NULL;
