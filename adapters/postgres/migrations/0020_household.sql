-- Household self-referral check (issue 9): keyed hashes of normalized
-- addresses (core.AddressHash; never the address itself), per owner and
-- the order they came from ('' for the customer record), and every
-- self-referral refused (same customer, same e-mail, same household) for
-- the merchant's review.
CREATE TABLE household_addresses (
    shop_id    bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    order_id   text        NOT NULL, -- '' for the customer record
    owner_id   text        NOT NULL,
    addr_hash  bytea       NOT NULL CHECK (length(addr_hash) = 32),
    from_order boolean     NOT NULL, -- the order's billing or shipping address (checked); false: the customer record
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT household_addresses_pkey PRIMARY KEY (shop_id, order_id, owner_id, addr_hash)
);
CREATE INDEX household_addresses_hash ON household_addresses (shop_id, addr_hash);
CREATE INDEX household_addresses_owner ON household_addresses (shop_id, owner_id);

CREATE TABLE referral_refusals (
    shop_id      bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    order_id     text        NOT NULL,
    order_number text        NOT NULL DEFAULT '',
    buyer_owner  text        NOT NULL,
    partner_id   text        NOT NULL,
    reason       text        NOT NULL CHECK (reason IN ('customer', 'email', 'household')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT referral_refusals_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT referral_refusals_order UNIQUE (shop_id, order_id)
);
