-- Delphix names a column's masking flag isMasked (the contract called it isMaskingAttribute). The
-- CHECK that a masked column has an algorithm follows the column.
ALTER TABLE column_metadata RENAME COLUMN is_masking_attribute TO is_masked;
