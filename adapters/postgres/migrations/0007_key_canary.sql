-- A known value sealed with CREDITBRIDGE_ENCRYPTION_KEY at first start. A
-- process whose key (current or previous) cannot open it refuses to start,
-- so a wrong key never seals a new shop's secrets or breaks the others.
CREATE TABLE key_canary (
    id         smallint    PRIMARY KEY CHECK (id = 1),
    sealed     bytea       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
