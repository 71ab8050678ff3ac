-- Ledger core: transactions, postings, owner balances, statement entries, holds.
-- Append-only: UPDATE, DELETE and TRUNCATE on transactions, postings and
-- entries fail. The only exception is the GDPR shop purge, which must set
-- creditbridge.purge_shop to the shop id in its own transaction.

CREATE FUNCTION ledger_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('creditbridge.purge_shop', true) = OLD.shop_id::text THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'creditbridge: % on % is forbidden: the ledger is append-only; post a correcting transaction instead', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'CB001';
END $$;

CREATE FUNCTION ledger_forbid_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'creditbridge: TRUNCATE on % is forbidden: the ledger is append-only', TG_TABLE_NAME
        USING ERRCODE = 'CB001';
END $$;

CREATE TABLE ledger_transactions (
    shop_id      bigint      NOT NULL,
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    idem_key     text        NOT NULL CHECK (length(idem_key) BETWEEN 1 AND 255),
    content_hash bytea       NOT NULL,
    kind         text        NOT NULL,
    order_id     text,
    reason       jsonb       NOT NULL,
    reverses     bigint,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_transactions_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT ledger_transactions_idem UNIQUE (shop_id, idem_key),
    CONSTRAINT ledger_transactions_reverses_fk FOREIGN KEY (shop_id, reverses) REFERENCES ledger_transactions (shop_id, id)
);
CREATE INDEX ledger_transactions_order ON ledger_transactions (shop_id, order_id) WHERE order_id IS NOT NULL;
-- BRIN: date-range exports and reports, nearly free to maintain on an append-only table.
CREATE INDEX ledger_transactions_created ON ledger_transactions USING brin (created_at);

CREATE TABLE ledger_postings (
    shop_id    bigint  NOT NULL,
    tx_id      bigint  NOT NULL,
    seq        integer NOT NULL,
    currency   text    NOT NULL,
    owner_kind text    NOT NULL CHECK (owner_kind IN ('customer', 'partner', 'program')),
    owner_id   text    NOT NULL,
    bucket     text    NOT NULL,
    amount     numeric NOT NULL CHECK (amount <> 0 AND scale(amount) <= 3),
    -- No foreign key to ledger_transactions: postings are only ever written
    -- together with their transaction by the store, a per-row RI trigger
    -- would halve the ledger's throughput, and audit checks for orphans.
    CONSTRAINT ledger_postings_pkey PRIMARY KEY (shop_id, tx_id, seq)
);

-- Owner balances (customers and partners only: the program's balances are
-- derived by aggregation so they never become a hot row).
CREATE TABLE ledger_balances (
    shop_id    bigint      NOT NULL,
    currency   text        NOT NULL,
    owner_kind text        NOT NULL CHECK (owner_kind IN ('customer', 'partner')),
    owner_id   text        NOT NULL,
    available  numeric     NOT NULL DEFAULT 0,
    pending    numeric     NOT NULL DEFAULT 0,
    held       numeric     NOT NULL DEFAULT 0,
    overdraft  numeric     NOT NULL DEFAULT 0,
    version    bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_balances_pkey PRIMARY KEY (shop_id, currency, owner_kind, owner_id),
    CONSTRAINT ledger_balances_available_nonneg CHECK (available >= 0),
    CONSTRAINT ledger_balances_pending_nonneg CHECK (pending >= 0),
    CONSTRAINT ledger_balances_held_nonneg CHECK (held >= 0),
    CONSTRAINT ledger_balances_overdraft_nonpos CHECK (overdraft <= 0)
);

-- One row per (transaction, owner): the customer's statement with running
-- balances. seq is the owner's entry number (1, 2, ...).
CREATE TABLE ledger_entries (
    shop_id         bigint      NOT NULL,
    currency        text        NOT NULL,
    owner_kind      text        NOT NULL,
    owner_id        text        NOT NULL,
    seq             bigint      NOT NULL,
    tx_id           bigint      NOT NULL,
    d_available     numeric     NOT NULL,
    d_pending       numeric     NOT NULL,
    d_held          numeric     NOT NULL,
    d_overdraft     numeric     NOT NULL,
    available_after numeric     NOT NULL,
    pending_after   numeric     NOT NULL,
    held_after      numeric     NOT NULL,
    overdraft_after numeric     NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT ledger_entries_pkey PRIMARY KEY (shop_id, currency, owner_kind, owner_id, seq)
);

CREATE SEQUENCE ledger_holds_id_seq;
CREATE TABLE ledger_holds (
    shop_id       bigint      NOT NULL,
    id            bigint      NOT NULL DEFAULT nextval('ledger_holds_id_seq'),
    currency      text        NOT NULL,
    owner_kind    text        NOT NULL,
    owner_id      text        NOT NULL,
    amount        numeric     NOT NULL CHECK (amount > 0),
    captured      numeric     NOT NULL DEFAULT 0 CHECK (captured >= 0 AND captured <= amount),
    status        text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'captured', 'voided', 'expired')),
    cart_key      text,
    order_id      text,
    expires_at    timestamptz NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    place_tx_id   bigint      NOT NULL,
    resolve_tx_id bigint,
    resolved_at   timestamptz,
    CONSTRAINT ledger_holds_pkey PRIMARY KEY (shop_id, id),
    CONSTRAINT ledger_holds_place_fk FOREIGN KEY (shop_id, place_tx_id) REFERENCES ledger_transactions (shop_id, id),
    CONSTRAINT ledger_holds_resolve_fk FOREIGN KEY (shop_id, resolve_tx_id) REFERENCES ledger_transactions (shop_id, id),
    CONSTRAINT ledger_holds_resolved CHECK ((status = 'open') = (resolve_tx_id IS NULL))
);
CREATE UNIQUE INDEX ledger_holds_open_cart ON ledger_holds (shop_id, cart_key) WHERE status = 'open' AND cart_key IS NOT NULL;
CREATE INDEX ledger_holds_open_expiry ON ledger_holds (expires_at) WHERE status = 'open';
CREATE INDEX ledger_holds_owner ON ledger_holds (shop_id, currency, owner_kind, owner_id) WHERE status = 'open';

-- A hold resolves exactly once: only open -> resolved, and only the
-- resolution columns may change.
CREATE FUNCTION ledger_holds_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('creditbridge.purge_shop', true) = OLD.shop_id::text THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'creditbridge: DELETE on ledger_holds is forbidden' USING ERRCODE = 'CB001';
    END IF;
    IF OLD.status <> 'open' THEN
        RAISE EXCEPTION 'creditbridge: hold % is already %', OLD.id, OLD.status USING ERRCODE = 'CB002';
    END IF;
    IF NEW.shop_id <> OLD.shop_id OR NEW.id <> OLD.id OR NEW.amount <> OLD.amount OR NEW.currency <> OLD.currency
       OR NEW.owner_kind <> OLD.owner_kind OR NEW.owner_id <> OLD.owner_id OR NEW.place_tx_id <> OLD.place_tx_id THEN
        RAISE EXCEPTION 'creditbridge: a hold''s identity and amount never change' USING ERRCODE = 'CB001';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER ledger_transactions_append_only BEFORE UPDATE OR DELETE ON ledger_transactions FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE ON ledger_postings FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_truncate();
CREATE TRIGGER ledger_postings_no_truncate BEFORE TRUNCATE ON ledger_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_truncate();
CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_truncate();
CREATE TRIGGER ledger_holds_guard BEFORE UPDATE OR DELETE ON ledger_holds FOR EACH ROW EXECUTE FUNCTION ledger_holds_guard();
