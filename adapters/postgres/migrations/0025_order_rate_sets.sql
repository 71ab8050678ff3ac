-- Frozen rates are stored as one row per order and freeze: the rates an
-- order's unit of work freezes together (every line × every beneficiary:
-- buyer and each partner level) form one JSON array. One row per
-- (line, beneficiary) made order_rates the largest writer of the
-- partner-chain benchmark: 12 rows, 12 index entries and 24 WAL records
-- (speculative insertion) per referred 3-line order, 37 % of all WAL.
--
-- A rate is still frozen once: the order's row is locked while its rates
-- are read and the new ones frozen, so a set only holds rates not frozen
-- before; its key is its first rate's (line, beneficiary), so a replayed
-- freeze of the same set is a no-op (ON CONFLICT DO NOTHING).
--
-- Rows frozen before this migration stay where they are
-- (order_rate_rows); the view order_rates shows both, one row per
-- (line, beneficiary) as before, for every reader.
ALTER TABLE order_rates RENAME TO order_rate_rows;
ALTER INDEX order_rates_pkey RENAME TO order_rate_rows_pkey;

CREATE TABLE order_rate_sets (
    shop_id           bigint      NOT NULL,
    order_id          text        NOT NULL,
    first_line_id     text        NOT NULL,
    first_beneficiary text        NOT NULL,
    rates             jsonb       NOT NULL CHECK (jsonb_typeof(rates) = 'array' AND jsonb_array_length(rates) > 0), -- []core.FrozenRate
    frozen_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT order_rate_sets_pkey PRIMARY KEY (shop_id, order_id, first_line_id, first_beneficiary)
);

DO $$
BEGIN
    EXECUTE 'ALTER TABLE order_rate_sets ALTER COLUMN rates SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    RAISE NOTICE 'frozen rate sets stay compressed with pglz: %', SQLERRM;
END
$$;

CREATE VIEW order_rates AS
SELECT shop_id, order_id, line_id, beneficiary, rate, frozen_at FROM order_rate_rows
UNION ALL
SELECT s.shop_id, s.order_id, e.rate->>'line_id', e.rate->>'beneficiary', e.rate, s.frozen_at
FROM order_rate_sets s CROSS JOIN LATERAL jsonb_array_elements(s.rates) AS e(rate);
