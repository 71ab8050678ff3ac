-- A voucher whose code the platform could not create is "failed" (its
-- credit was given back at once), not "returned" (expired unused).
ALTER TABLE vouchers DROP CONSTRAINT vouchers_status_check;
ALTER TABLE vouchers ADD CONSTRAINT vouchers_status_check CHECK (status IN ('pending', 'issued', 'used', 'returned', 'failed'));

-- Shopify store credit mirror (redemption mode store_credit): per customer,
-- what creditbridge believes the customer's Shopify store credit account
-- holds. Pushes move it by what they applied; orders paid or refunded in
-- store credit move it together with their ledger transaction; the
-- reconciler compares it with Shopify's balance.
CREATE TABLE store_credit_mirror (
    shop_id    bigint      NOT NULL,
    owner_id   text        NOT NULL,
    currency   text        NOT NULL,
    mirrored   numeric     NOT NULL DEFAULT 0,
    -- A push in flight (signed amount): set before the call to Shopify,
    -- cleared after it, so a crash in between is detected.
    pending    numeric,
    pending_at timestamptz,
    -- Shopify's balance minus mirrored as the reconciler last saw it, and
    -- since when it has been that.
    gap        numeric,
    gap_since  timestamptz,
    synced_at  timestamptz,
    CONSTRAINT store_credit_mirror_pkey PRIMARY KEY (shop_id, owner_id, currency),
    CONSTRAINT store_credit_mirror_pending CHECK ((pending IS NULL) = (pending_at IS NULL)),
    CONSTRAINT store_credit_mirror_gap CHECK ((gap IS NULL) = (gap_since IS NULL))
);
