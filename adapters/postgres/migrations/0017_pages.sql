-- Merchant pages (issue 10): checkout labels, collection rules.

-- Every name creditbridge ever gave credit at a Shopify checkout (the
-- discount Function's message and the automatic discount's title), per
-- shop. Shopify's order webhooks identify an automatic app discount only by
-- its title (AutomaticDiscountApplication has no discount id), so the
-- discount of an order is creditbridge's when its title is one creditbridge
-- issued for that shop: renaming the label never stops an older order from
-- being recognised. Append-only: a label once issued is never forgotten.
CREATE TABLE checkout_labels (
    shop_id       bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    label         text        NOT NULL CHECK (label <> ''),
    first_used_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT checkout_labels_pkey PRIMARY KEY (shop_id, label)
);

-- Collection rules: a rule for a Shopify collection or a WooCommerce
-- product category (target_id is the collection or category id). Which
-- products a collection holds is kept in collection_products, refreshed
-- from the platform; a line earns by the collection rule when its product
-- is a member and no variant, SKU or product rule applies.
ALTER TABLE credit_rules DROP CONSTRAINT credit_rules_target_check;
ALTER TABLE credit_rules ADD CONSTRAINT credit_rules_target_check CHECK (target IN ('default', 'collection', 'product', 'variant', 'sku'));

CREATE TABLE collection_products (
    shop_id       bigint      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    collection_id text        NOT NULL,
    product_id    text        NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT collection_products_pkey PRIMARY KEY (shop_id, collection_id, product_id)
);
CREATE INDEX collection_products_product ON collection_products (shop_id, product_id);
