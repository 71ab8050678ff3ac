-- What the WooCommerce plugin's health box shows about a shop's connection
-- that the inbox does not already hold: the poller's last run and its
-- outcome, and the last failure of the connection with its reason. The
-- last webhook and the last dead letter are read from the inbox.
CREATE TABLE shop_health (
    shop_id             bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    last_poll_at        timestamptz,
    last_poll_ok        boolean     NOT NULL DEFAULT false,
    last_failure_at     timestamptz,
    last_failure_source text,
    last_failure_reason text CHECK (last_failure_reason IS NULL OR length(last_failure_reason) <= 500),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT shop_health_pkey PRIMARY KEY (shop_id)
);
