-- Credit an earning cap kept from being booked (issue 13: "credit above a
-- cap is not booked, and the statement says why"). One row per (order
-- line, beneficiary) and cap that cut its credit (core.FrozenRate.Cuts,
-- for all the line's units, at the currency's scale), written in the same transaction that freezes
-- the line's rate and never changed afterwards, like the rate: refunds and
-- replays never recompute it. It is earning metadata beside the ledger,
-- not a posting (postings are real money; a fully capped line books
-- nothing). The statement reads it per order and cap.
CREATE TABLE earn_withheld (
    shop_id      bigint      NOT NULL,
    order_id     text        NOT NULL,
    line_id      text        NOT NULL,
    beneficiary  text        NOT NULL,
    cap          text        NOT NULL CHECK (cap IN ('article', 'order', 'customer_year')),
    currency     text        NOT NULL,
    owner_kind   text        NOT NULL,
    owner_id     text        NOT NULL,
    order_number text        NOT NULL DEFAULT '',
    amount       numeric     NOT NULL CHECK (amount > 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT earn_withheld_pkey PRIMARY KEY (shop_id, order_id, line_id, beneficiary, cap)
);
CREATE INDEX earn_withheld_owner ON earn_withheld (shop_id, currency, owner_kind, owner_id, created_at);
CREATE TRIGGER earn_withheld_append_only BEFORE UPDATE OR DELETE ON earn_withheld FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER earn_withheld_no_truncate BEFORE TRUNCATE ON earn_withheld FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_truncate();
