-- Memberships chain across a claimed guest and its customer (issue 9):
-- the months a line bought are kept, so a membership moved to start at
-- the end of another (a guest's membership claimed after the customer
-- bought their own) keeps its length. NULL for rows written before.
ALTER TABLE memberships ADD COLUMN months integer CHECK (months > 0);
