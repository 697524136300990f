-- A run masking a table without a key adds a temporary identity column to read and write its rows
-- by, recorded like the other SQL objects it touches (object type COLUMN), so that whoever ends
-- the execution drops it.
ALTER TABLE execution_sql_objects DROP CONSTRAINT execution_sql_objects_object_type_check;
ALTER TABLE execution_sql_objects ADD CONSTRAINT execution_sql_objects_object_type_check
    CHECK (object_type IN ('TRIGGER', 'CONSTRAINT', 'INDEX', 'COLUMN'));
