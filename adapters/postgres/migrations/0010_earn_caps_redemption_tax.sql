-- Yearly earning caps and the tax split of redeemed credit (issue 13).

-- Credit granted per owner and calendar year (by the order's creation,
-- in the shop's time_zone, UTC when unset), counted when a line's credit is frozen: the budget of
-- ShopSettings.earn_cap_year_amount. Refunds lower booked credit later but
-- never give budget back (the cap is frozen with the rate).
CREATE TABLE earn_year_caps (
    shop_id    bigint      NOT NULL,
    currency   text        NOT NULL,
    owner_kind text        NOT NULL,
    owner_id   text        NOT NULL,
    year       integer     NOT NULL,
    used       numeric     NOT NULL DEFAULT 0 CHECK (used >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT earn_year_caps_pkey PRIMARY KEY (shop_id, currency, owner_kind, owner_id, year)
);

-- The credit each order redeemed, one row per redemption (creditbridge
-- discount or voucher code) as the newest snapshot of the order reports
-- it: amount is what the invoice was reduced by (and what the ledger books
-- for the order), net + tax its split into the reduced taxable amount and
-- the reduced VAT. net and tax are NULL when the platform does not report
-- the split (tax_source 'unknown'); 'platform' means the platform's own
-- figures, 'computed' a split creditbridge derived from the platform's
-- per-line tax rates. For the accounting export (DATEV) and reports.
CREATE TABLE order_redemptions (
    shop_id            bigint      NOT NULL,
    order_id           text        NOT NULL,
    kind               text        NOT NULL CHECK (kind IN ('discount', 'voucher')),
    code               text        NOT NULL,
    currency           text        NOT NULL,
    amount             numeric     NOT NULL CHECK (amount >= 0),
    net                numeric,
    tax                numeric,
    tax_source         text        NOT NULL CHECK (tax_source IN ('platform', 'computed', 'unknown')),
    prices_include_tax boolean,
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_redemptions_pkey PRIMARY KEY (shop_id, order_id, kind, code),
    CONSTRAINT order_redemptions_split CHECK ((net IS NULL) = (tax IS NULL) AND (net IS NULL OR net + tax = amount))
);
