-- Referral rewards ("bring a friend", issue 9): one decision per referred
-- customer (their first paid order): rewarded, refused (with the reason,
-- for the merchant) or reversed (that order was cancelled or refunded).
-- The ledger keys referral:<referred>:reward / :welcome (+ :reverse) make
-- the money side idempotent; this table is the decision and the monthly
-- count per referrer (abuse limit).
CREATE TABLE referral_rewards (
    shop_id          bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    id               bigint      GENERATED ALWAYS AS IDENTITY,
    referred_owner   text        NOT NULL,   -- c:… or g:… (the new customer)
    order_id         text        NOT NULL,   -- their first paid order
    order_number     text        NOT NULL DEFAULT '',
    referrer_kind    text        NOT NULL DEFAULT '' CHECK (referrer_kind IN ('', 'customer', 'partner')),
    referrer_id      text        NOT NULL DEFAULT '',
    status           text        NOT NULL CHECK (status IN ('rewarded', 'refused', 'reversed')),
    refusal          text,
    currency         text        NOT NULL,
    order_net        numeric     NOT NULL DEFAULT 0,
    reward_amount    numeric     NOT NULL DEFAULT 0 CHECK (reward_amount >= 0),
    welcome_amount   numeric     NOT NULL DEFAULT 0 CHECK (welcome_amount >= 0),
    reward_tx_id     bigint,
    welcome_tx_id    bigint,
    ordered_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    reversed_at      timestamptz,
    CONSTRAINT referral_rewards_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT referral_rewards_referred UNIQUE (shop_id, referred_owner),
    CONSTRAINT referral_rewards_reward_fk FOREIGN KEY (shop_id, reward_tx_id) REFERENCES ledger_transactions (shop_id, id),
    CONSTRAINT referral_rewards_welcome_fk FOREIGN KEY (shop_id, welcome_tx_id) REFERENCES ledger_transactions (shop_id, id)
);
-- The monthly limit counts a referrer's rewards by the first order's date.
CREATE INDEX referral_rewards_referrer ON referral_rewards (shop_id, referrer_kind, referrer_id, ordered_at) WHERE status = 'rewarded';
CREATE INDEX referral_rewards_status ON referral_rewards (shop_id, status, id);
