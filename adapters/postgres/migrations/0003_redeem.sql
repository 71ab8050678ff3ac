-- Compliance reports and vouchers.

CREATE TABLE data_requests (
    shop_id    bigint      NOT NULL,
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    request_id text        NOT NULL DEFAULT '',
    report     jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT data_requests_pkey PRIMARY KEY (shop_id, id)
);

-- A voucher is credit turned into a single-use code bound to its owner.
-- Issue moves available -> program vouchers; use settles it into redeemed;
-- expiry unused returns it to available. Each transition is a ledger
-- transaction with a unique key, so it happens once.
CREATE TABLE vouchers (
    shop_id      bigint      NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    code         text        NOT NULL,
    currency     text        NOT NULL,
    owner_kind   text        NOT NULL,
    owner_id     text        NOT NULL,
    amount       numeric     NOT NULL CHECK (amount > 0),
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'issued', 'used', 'returned')),
    platform_ref text,
    order_id     text,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at  timestamptz,
    CONSTRAINT vouchers_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT vouchers_code UNIQUE (shop_id, code)
);
CREATE INDEX vouchers_open ON vouchers (expires_at) WHERE status IN ('pending', 'issued');
CREATE INDEX vouchers_owner ON vouchers (shop_id, owner_kind, owner_id);
