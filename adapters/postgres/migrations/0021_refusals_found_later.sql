-- Self-referrals found after the order earned (issue 9): an address
-- learned later (a customer record, another order) that puts the buyer in
-- the household of a partner of the chain that an order already credited
-- is recorded for review (found_later), its partner credit standing until
-- the merchant reverses it with correction entries (reversed_at, by).
ALTER TABLE referral_refusals
    ADD COLUMN found_later boolean NOT NULL DEFAULT false,
    ADD COLUMN reversed_at timestamptz,
    ADD COLUMN reversed_by text;
