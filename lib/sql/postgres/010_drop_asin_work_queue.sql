-- bb schema, PostgreSQL dialect, version 10: asin_work_queue goes. It was kept
-- for a decoupled mode (notifications queued per ASIN in the database and
-- claimed with FOR UPDATE SKIP LOCKED) that nothing wrote or read. bb-store's
-- per-batch advisory locks already serialise each ASIN across any number of
-- pipelines (bb-store(1), "PostgreSQL"); a second queue inside the database
-- would only repeat what SQS does. Its index goes with it.
DROP TABLE IF EXISTS asin_work_queue;
