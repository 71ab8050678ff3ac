-- The open-cart index's predicate also required cart_key IS NOT NULL,
-- which a generic (prepared) plan for "cart_key = $2" cannot use, so the
-- planner fell back to scanning the shop's open holds by owner. An open
-- hold per cart stays unique with the simpler predicate (NULL keys never
-- collide), and the order webhook's lookup of a cart's hold (open, or
-- captured by that order) gets a plain index.
DROP INDEX ledger_holds_open_cart;
CREATE UNIQUE INDEX ledger_holds_open_cart ON ledger_holds (shop_id, cart_key) WHERE status = 'open';
CREATE INDEX ledger_holds_cart ON ledger_holds (shop_id, cart_key);
