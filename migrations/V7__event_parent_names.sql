-- Delphix names a value event's column maskedObjectName and its table maskedObjectParentName;
-- maskd stored both as 'table.column' in masked_object_name. Split what is stored (at the first
-- dot: maskd's table names are the catalog's, and a dot in one is rarer than in a column's).
ALTER TABLE execution_events ADD COLUMN masked_object_parent_name text;

UPDATE execution_events
   SET masked_object_parent_name = split_part(masked_object_name, '.', 1),
       masked_object_name = substr(masked_object_name, strpos(masked_object_name, '.') + 1)
 WHERE event_type = 'UNMASKED_DATA' AND strpos(masked_object_name, '.') > 0;
