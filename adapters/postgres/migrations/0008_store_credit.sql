-- A voucher whose code the platform could not create is "failed" (its
-- credit was given back at once), not "returned" (expired unused).
ALTER TABLE vouchers DROP CONSTRAINT vouchers_status_check;
ALTER TABLE vouchers ADD CONSTRAINT vouchers_status_check CHECK (status IN ('pending', 'issued', 'used', 'returned', 'failed'));
