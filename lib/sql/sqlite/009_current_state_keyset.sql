-- bb schema, SQLite dialect, version 9: current_state is indexed by the whole
-- key that pages the dashboard's list, (priority, asin, marketplace), as
-- bb-serve's /api/notifications/prioritized orders and resumes it. The index
-- of version 1 stopped at asin, so each page sorted the rows of a priority
-- and ASIN by marketplace in a temporary tree; this one hands them out in
-- order. It takes the old one's place: what that answered (the rows of a
-- priority, counted or in order of ASIN) this one answers too.
DROP INDEX IF EXISTS current_state_priority;
CREATE INDEX current_state_priority_key ON current_state (priority, asin, marketplace);
