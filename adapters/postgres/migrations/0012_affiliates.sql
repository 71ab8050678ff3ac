-- Affiliate accounts (issue 9): a partner is a shop customer with a
-- partner code. Once linked, the partner's earnings from every level land
-- on the customer's own account (one affiliate account per person).

ALTER TABLE partners
    ADD COLUMN customer_owner text,   -- the linked customer owner (c:<platform id>)
    ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'pending', 'inactive')),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE UNIQUE INDEX partners_customer ON partners (shop_id, customer_owner) WHERE customer_owner IS NOT NULL;
CREATE INDEX partners_sponsor ON partners (shop_id, sponsor_id, partner_id) WHERE sponsor_id IS NOT NULL;
CREATE INDEX partners_code_ci ON partners (shop_id, upper(code)) WHERE code IS NOT NULL;

-- Sponsor changes, for the merchant's review. Moving a partner changes
-- only future earnings: rates already frozen keep their owners.
CREATE TABLE partner_moves (
    shop_id      bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    partner_id   text        NOT NULL,
    from_sponsor text,
    to_sponsor   text,
    actor        text        NOT NULL DEFAULT '',
    moved_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT partner_moves_pkey PRIMARY KEY (shop_id, id)
);
CREATE INDEX partner_moves_partner ON partner_moves (shop_id, partner_id, id);

-- An owner whose credit moved to another owner (a partner linked to its
-- customer, a guest's credit claimed by the registered customer). Frozen
-- rates of the old owner resolve to the new one, so later earnings and
-- reversals of those orders follow the credit. One hop: a target is never
-- itself a source.
CREATE TABLE owner_links (
    shop_id   bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    from_kind text        NOT NULL CHECK (from_kind IN ('customer', 'partner')),
    from_id   text        NOT NULL,
    to_kind   text        NOT NULL CHECK (to_kind IN ('customer', 'partner')),
    to_id     text        NOT NULL,
    linked_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT owner_links_pkey PRIMARY KEY (shop_id, from_kind, from_id)
);

-- Customer binding (Kundenschutz): the partner a buyer was first referred
-- by (the earliest order carrying a referral wins, whatever the delivery
-- order). buyer_owner is the buyer's owner id (c:… or g:…).
CREATE TABLE referral_bindings (
    shop_id     bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    buyer_owner text        NOT NULL,
    partner_id  text        NOT NULL,
    order_id    text        NOT NULL,
    ordered_at  timestamptz NOT NULL,
    bound_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT referral_bindings_pkey PRIMARY KEY (shop_id, buyer_owner)
);
