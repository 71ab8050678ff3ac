-- Loyalty program types (issue 11): activity rewards, notifications
-- (outgoing webhooks and e-mail, derived from the ledger), reminders and
-- the second-purchase offer. Expiry needs no table: it is derived from
-- the statement entries (oldest credit first).

-- One reported activity. A rewarded activity's ledger transaction has the
-- key activity:<kind>:<owner>:<object>, unique per shop, so a slot pays at
-- most once even across idempotency keys; the partial unique index says
-- the same for the events.
CREATE TABLE activity_events (
    shop_id      bigint      NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    idem_key     text        NOT NULL,
    kind         text        NOT NULL,
    owner_id     text        NOT NULL,
    object       text        NOT NULL DEFAULT '',
    status       text        NOT NULL CHECK (status IN ('rewarded', 'refused', 'revoked')),
    refusal      text,
    currency     text,
    amount       numeric     NOT NULL DEFAULT 0,
    tx_id        bigint,
    revoke_tx_id bigint,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    CONSTRAINT activity_events_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT activity_events_key UNIQUE (shop_id, idem_key),
    CONSTRAINT activity_events_tx_fk FOREIGN KEY (shop_id, tx_id) REFERENCES ledger_transactions (shop_id, id),
    CONSTRAINT activity_events_revoke_fk FOREIGN KEY (shop_id, revoke_tx_id) REFERENCES ledger_transactions (shop_id, id)
);
CREATE UNIQUE INDEX activity_events_slot ON activity_events (shop_id, kind, owner_id, object) WHERE status <> 'refused';
CREATE INDEX activity_events_period ON activity_events (shop_id, owner_id, kind, created_at) WHERE status = 'rewarded';

-- Marketing consent and language as the platform reports them (NULL:
-- the platform said nothing). Reminders go only to consenting customers.
ALTER TABLE customers ADD COLUMN marketing_consent boolean;
ALTER TABLE customers ADD COLUMN locale text;

-- How far a shop's notifier has read the ledger (transaction id).
CREATE TABLE program_cursors (
    shop_id    bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    name       text        NOT NULL,
    last_id    bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT program_cursors_pkey PRIMARY KEY (shop_id, name)
);

-- Outbox: one row per notification (credit.earned, credit.available,
-- credit.expiring, credit.expired, activity.rewarded, balance.reminder,
-- ...), unique per business key so a notification is created once.
-- Derived from committed ledger transactions by a job, so a slow or
-- failing endpoint never touches the ledger.
CREATE TABLE notifications (
    shop_id    bigint      NOT NULL,
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    topic      text        NOT NULL,
    dedupe_key text        NOT NULL,
    owner_kind text        NOT NULL DEFAULT '',
    owner_id   text        NOT NULL DEFAULT '',
    payload    jsonb       NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT notifications_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT notifications_dedupe UNIQUE (shop_id, dedupe_key)
);
CREATE INDEX notifications_owner ON notifications (shop_id, owner_kind, owner_id, topic, created_at);

-- One row per (notification, channel): webhook:<endpoint url hash> or email.
CREATE TABLE notification_deliveries (
    shop_id         bigint      NOT NULL,
    notification_id bigint      NOT NULL,
    channel         text        NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed', 'skipped')),
    attempts        integer     NOT NULL DEFAULT 0,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz,
    CONSTRAINT notification_deliveries_pkey PRIMARY KEY (shop_id, notification_id, channel)
);
CREATE INDEX notification_deliveries_pending ON notification_deliveries (created_at) WHERE status = 'pending';

-- Second purchase within N days: one offer per customer, opened by the
-- first paid order, ended by use, expiry or the first order's refund.
CREATE TABLE second_purchase_offers (
    shop_id        bigint      NOT NULL,
    owner_id       text        NOT NULL,
    first_order_id text        NOT NULL,
    currency       text        NOT NULL,
    amount         numeric     NOT NULL CHECK (amount > 0),
    valid_until    timestamptz NOT NULL,
    status         text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'used', 'expired', 'cancelled')),
    grant_tx_id    bigint,
    end_tx_id      bigint,
    created_at     timestamptz NOT NULL DEFAULT now(),
    ended_at       timestamptz,
    CONSTRAINT second_purchase_offers_pkey PRIMARY KEY (shop_id, owner_id)
);
CREATE INDEX second_purchase_offers_open ON second_purchase_offers (valid_until) WHERE status = 'open';
