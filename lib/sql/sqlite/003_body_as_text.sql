-- bb schema, SQLite dialect, version 3: nothing to do. Version 3 makes the
-- PostgreSQL body text, which the SQLite body has always been; the versions
-- of the two dialects stay the same.
SELECT 1;
