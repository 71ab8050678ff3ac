package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// canaryPlain is what the key canary holds once opened.
const canaryPlain = "creditbridge key canary v1"

// ErrWrongKey is matched (errors.Is) by CheckKey's error when the
// configured encryption keys cannot open what this database holds.
var ErrWrongKey = errors.New("CREDITBRIDGE_ENCRYPTION_KEY is not the key this database's secrets were sealed with " +
	"(during a rotation set the old key as CREDITBRIDGE_ENCRYPTION_KEY_PREVIOUS, then run creditbridge reseal)")

// CheckKey makes sure the configured keys can open the shops' secrets
// before anything is sealed with them: it opens the key canary, storing
// one on first start. On a database from before the canary it first opens
// one shop's secrets (if any shop has them), so an upgrade with a wrong key
// is refused too.
func (s *ShopStore) CheckKey(ctx context.Context) error {
	var sealed []byte
	err := s.pool.QueryRow(ctx, `SELECT sealed FROM key_canary WHERE id = 1`).Scan(&sealed)
	if errors.Is(err, pgx.ErrNoRows) {
		var id int64
		var shop []byte
		err := s.pool.QueryRow(ctx, `SELECT id, secrets FROM shops WHERE secrets IS NOT NULL ORDER BY id LIMIT 1`).Scan(&id, &shop)
		switch {
		case err == nil:
			if _, err := s.sealer.Open(shop); err != nil {
				return fmt.Errorf("%w: it cannot open the secrets of shop %d", ErrWrongKey, id)
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("postgres: key check: %w", err)
		}
		if sealed, err = s.sealer.Seal([]byte(canaryPlain)); err != nil {
			return fmt.Errorf("postgres: key check: %w", err)
		}
		if err := s.pool.QueryRow(ctx, `INSERT INTO key_canary (id, sealed) VALUES (1, $1)
ON CONFLICT (id) DO UPDATE SET id = key_canary.id RETURNING sealed`, sealed).Scan(&sealed); err != nil {
			return fmt.Errorf("postgres: key check: %w", err)
		}
	} else if err != nil {
		return fmt.Errorf("postgres: key check: %w", err)
	}
	plain, err := s.sealer.Open(sealed)
	if err != nil || string(plain) != canaryPlain {
		return fmt.Errorf("%w: it cannot open the key canary stored at first start", ErrWrongKey)
	}
	return nil
}

// ResealCanary seals the key canary with the current key (after a key
// rotation, once every shop is re-sealed).
func (s *ShopStore) ResealCanary(ctx context.Context) error {
	sealed, err := s.sealer.Seal([]byte(canaryPlain))
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO key_canary (id, sealed) VALUES (1, $1)
ON CONFLICT (id) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = now()`, sealed)
	return err
}
