-- The product or variant name a rule was set up for (from the Shopify
-- resource picker or the WooCommerce product search), shown to merchants
-- instead of a bare id. Display only: rules still match by target_id.
ALTER TABLE credit_rules ADD COLUMN title text NOT NULL DEFAULT '';
