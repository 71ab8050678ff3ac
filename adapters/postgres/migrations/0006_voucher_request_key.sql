-- A voucher request may carry an idempotency key (the plugin sends one per
-- rendered form; API clients may send Idempotency-Key): the same key gives
-- the same voucher instead of turning credit into a second one.
ALTER TABLE vouchers ADD COLUMN request_key text CHECK (request_key IS NULL OR length(request_key) BETWEEN 1 AND 255);
CREATE UNIQUE INDEX vouchers_request ON vouchers (shop_id, request_key) WHERE request_key IS NOT NULL;
