-- The open-holds-by-owner index led with shop_id, so before the table's
-- statistics caught up (a new shop, a fresh table) the planner could pick it
-- for a cart's lookup and filter every open hold of the shop (seen in the
-- quote benchmark: 0.5 ms instead of 0.03 ms per quote, growing with the
-- shop). Leading with the owner id keeps it for lookups by owner and out of
-- reach of queries that do not name one.
DROP INDEX ledger_holds_owner;
CREATE INDEX ledger_holds_owner ON ledger_holds (owner_id, shop_id, currency, owner_kind) WHERE status = 'open';
