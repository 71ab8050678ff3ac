-- Tiers and paid membership (issue 11, core/tiers.go).

-- What one order counts towards its buyer's tier: net spend and the
-- buyer's credit after refunds (zero once unpaid or cancelled), in the
-- shop's currency. Converged with the order on every snapshot or refund.
CREATE TABLE tier_activity (
    shop_id    bigint      NOT NULL,
    order_id   text        NOT NULL,
    owner_id   text        NOT NULL,
    placed_at  timestamptz NOT NULL,
    spend      numeric     NOT NULL CHECK (spend >= 0),
    credit     numeric     NOT NULL CHECK (credit >= 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT tier_activity_pkey PRIMARY KEY (shop_id, order_id)
);
CREATE INDEX tier_activity_owner ON tier_activity (shop_id, owner_id, placed_at);
CREATE INDEX tier_activity_changed ON tier_activity (shop_id, updated_at);

-- One membership per order line of the membership article. Its start and
-- end are frozen when the line is first paid (a membership bought while
-- one runs starts when that one ends); a refund or cancellation of the
-- line sets ended_at (a restore clears it).
CREATE TABLE memberships (
    shop_id    bigint      NOT NULL,
    order_id   text        NOT NULL,
    line_id    text        NOT NULL,
    owner_id   text        NOT NULL,
    tier       text        NOT NULL,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL,
    ended_at   timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT memberships_pkey PRIMARY KEY (shop_id, order_id, line_id),
    CONSTRAINT memberships_period CHECK (ends_at > starts_at)
);
CREATE INDEX memberships_owner ON memberships (shop_id, owner_id, ends_at);
CREATE INDEX memberships_changed ON memberships (shop_id, updated_at);

-- The tier last announced per customer (tier.changed), and when it must
-- be looked at again although nothing changed (the review period's end,
-- a membership's end).
CREATE TABLE customer_tiers (
    shop_id    bigint      NOT NULL,
    owner_id   text        NOT NULL,
    tier       text        NOT NULL DEFAULT '',
    since      timestamptz NOT NULL,
    review_at  timestamptz NOT NULL,
    version    integer     NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customer_tiers_pkey PRIMARY KEY (shop_id, owner_id)
);
CREATE INDEX customer_tiers_review ON customer_tiers (shop_id, review_at) WHERE tier <> '';

-- Every tier change, for the customer's statement and the merchant.
CREATE TABLE tier_changes (
    shop_id    bigint      NOT NULL,
    owner_id   text        NOT NULL,
    version    integer     NOT NULL,
    from_tier  text        NOT NULL,
    to_tier    text        NOT NULL,
    qualifying numeric     NOT NULL,
    member     boolean     NOT NULL,
    changed_at timestamptz NOT NULL,
    CONSTRAINT tier_changes_pkey PRIMARY KEY (shop_id, owner_id, version)
);
