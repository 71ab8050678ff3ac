-- Stored webhook payloads (2-30 kB of JSON each) are compressed when a
-- row is written. PostgreSQL's default method, pglz, was about 2 % of
-- the database's CPU in the partner-chain benchmark; lz4 compresses
-- several times faster for a slightly larger result. Only values written
-- from now on use it; older rows stay readable as they are. A server
-- built without lz4 (or older than PostgreSQL 14) keeps pglz.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE inbox ALTER COLUMN payload SET COMPRESSION lz4';
EXCEPTION WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
    RAISE NOTICE 'inbox payloads stay compressed with pglz: %', SQLERRM;
END
$$;
