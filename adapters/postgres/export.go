package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditbridge/creditbridge/core"
)

// ExportPostings streams a shop's postings created in [from, to) in
// transaction order to fn (for accountants and tax advisors). It reads
// inside one snapshot so the export balances.
func (s *LedgerStore) ExportPostings(ctx context.Context, shopID int64, from, to time.Time, fn func(core.PostingRecord) error) error {
	tx, err := s.pool.BeginTx(ctx, txOptsSnapshot)
	if err != nil {
		return fmt.Errorf("postgres: export: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	rows, err := tx.Query(ctx, `SELECT t.created_at, t.id, t.idem_key, coalesce(t.reverses, 0), t.reason, p.currency, p.owner_kind, p.owner_id, p.bucket, p.amount
FROM ledger_transactions t JOIN ledger_postings p ON p.shop_id = t.shop_id AND p.tx_id = t.id
WHERE t.shop_id = $1 AND t.created_at >= $2 AND t.created_at < $3
ORDER BY t.id, p.seq`, shopID, from, to)
	if err != nil {
		return fmt.Errorf("postgres: export: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r core.PostingRecord
		var reason []byte
		var kind, bucket string
		if err := rows.Scan(&r.CreatedAt, &r.TransactionID, &r.Key, &r.Reverses, &reason, &r.Currency, &kind, &r.Owner.ID, &bucket, &r.Amount); err != nil {
			return fmt.Errorf("postgres: export: %w", err)
		}
		if err := json.Unmarshal(reason, &r.Reason); err != nil {
			return fmt.Errorf("postgres: export reason of %d: %w", r.TransactionID, err)
		}
		r.Owner.Kind, r.Bucket = core.OwnerKind(kind), core.Bucket(bucket)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
