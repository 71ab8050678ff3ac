-- Earn path: shops, credit rules, customers, partners, the webhook inbox
-- and per-order state (newest snapshot, refunds, frozen rates).

CREATE TABLE shops (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    platform         text        NOT NULL CHECK (platform IN ('shopify', 'woocommerce')),
    domain           text        NOT NULL,
    name             text        NOT NULL DEFAULT '',
    currency         text        NOT NULL,
    active           boolean     NOT NULL DEFAULT true,
    settings         jsonb       NOT NULL DEFAULT '{}',
    secrets          bytea,                 -- AES-256-GCM sealed JSON (webhook secret, API credentials, tokens)
    admin_token_hash bytea,                 -- SHA-256 of the shop's admin API token
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shops_domain UNIQUE (platform, domain)
);

CREATE TABLE credit_rules (
    shop_id     bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    target      text        NOT NULL CHECK (target IN ('default', 'product', 'variant', 'sku')),
    target_id   text        NOT NULL DEFAULT '',
    beneficiary text        NOT NULL DEFAULT 'buyer',
    mode        text        NOT NULL CHECK (mode IN ('fixed', 'percent', 'exclude')),
    value       numeric     NOT NULL DEFAULT 0 CHECK (value >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT credit_rules_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT credit_rules_target UNIQUE (shop_id, target, target_id, beneficiary)
);

-- Identity of ledger owners. owner_id is opaque (c:<platform id> or
-- g:<keyed hash of the e-mail>); the personal data lives only here and is
-- wiped by customers/redact.
CREATE TABLE customers (
    shop_id     bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    owner_id    text        NOT NULL,
    platform_id text,
    email       text,
    email_hash  bytea,
    redacted_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT customers_pkey PRIMARY KEY (shop_id, owner_id)
);
CREATE INDEX customers_platform ON customers (shop_id, platform_id) WHERE platform_id IS NOT NULL;
CREATE INDEX customers_email ON customers (shop_id, email_hash) WHERE email_hash IS NOT NULL;

CREATE TABLE partners (
    shop_id    bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    partner_id text        NOT NULL,
    code       text,
    sponsor_id text,
    name       text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT partners_pkey PRIMARY KEY (shop_id, partner_id),
    CONSTRAINT partners_code UNIQUE (shop_id, code)
);

-- Every verified webhook delivery, written before the 200. Unique per
-- platform event; shop_id 0 = a signed event for a shop we do not know yet.
CREATE TABLE inbox (
    shop_id      bigint      NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    platform     text        NOT NULL,
    event_key    text        NOT NULL,
    topic        text        NOT NULL,
    shop_domain  text        NOT NULL DEFAULT '',
    payload      bytea       NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    status       text        NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'skipped', 'dead')),
    attempts     integer     NOT NULL DEFAULT 0,
    last_error   text,
    processed_at timestamptz,
    CONSTRAINT inbox_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT inbox_event UNIQUE (platform, shop_id, event_key)
);
CREATE INDEX inbox_received ON inbox (received_at) WHERE status = 'received';
CREATE INDEX inbox_dead ON inbox (shop_id, id) WHERE status = 'dead';

CREATE TABLE orders (
    shop_id             bigint      NOT NULL,
    order_id            text        NOT NULL,
    snapshot            jsonb,                 -- newest normalized snapshot (without e-mail)
    platform_updated_at timestamptz,
    buyer_owner         text,
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT orders_pkey PRIMARY KEY (shop_id, order_id)
);

CREATE TABLE order_refunds (
    shop_id     bigint      NOT NULL,
    order_id    text        NOT NULL,
    refund_id   text        NOT NULL,
    lines_known boolean     NOT NULL,
    amount      numeric     NOT NULL DEFAULT 0,
    lines       jsonb       NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_refunds_pkey PRIMARY KEY (shop_id, order_id, refund_id)
);

CREATE TABLE order_rates (
    shop_id     bigint      NOT NULL,
    order_id    text        NOT NULL,
    line_id     text        NOT NULL,
    beneficiary text        NOT NULL,
    rate        jsonb       NOT NULL,          -- core.FrozenRate, frozen when the line first earned
    frozen_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_rates_pkey PRIMARY KEY (shop_id, order_id, line_id, beneficiary)
);

-- Poller cursors (WooCommerce modified_after).
CREATE TABLE poll_cursors (
    shop_id    bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    cursor_at  timestamptz NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT poll_cursors_pkey PRIMARY KEY (shop_id, name)
);
