package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
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

var _ core.ProgramPostingSource = (*LedgerStore)(nil)

// programBuckets are the program buckets that change what the shop owes
// (vouchers outstanding stay part of the liability).
const programBuckets = `('issued', 'redeemed', 'expired', 'adjustments')`

// ProgramPostings implements core.ProgramPostingSource: the liability
// before and after the period and the period's program postings, read from
// one snapshot and streamed row by row (memory does not grow with the
// period).
func (s *LedgerStore) ProgramPostings(ctx context.Context, shopID int64, currency string, p core.Period,
	start func(opening, closing decimal.Decimal) error, fn func(core.PostingRecord) error) error {
	tx, err := s.pool.BeginTx(ctx, txOptsSnapshot)
	if err != nil {
		return fmt.Errorf("postgres: program postings: %w", err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // read-only
	var opening, closing decimal.Decimal
	err = tx.QueryRow(ctx, `SELECT coalesce(-sum(p.amount) FILTER (WHERE t.created_at < $3), 0), coalesce(-sum(p.amount), 0)
FROM ledger_postings p
JOIN ledger_transactions t ON t.shop_id = p.shop_id AND t.id = p.tx_id
WHERE p.shop_id = $1 AND p.currency = $2 AND p.owner_kind = 'program' AND p.bucket IN `+programBuckets+`
AND t.created_at < $4`, shopID, currency, p.From, p.To).Scan(&opening, &closing)
	if err != nil {
		return fmt.Errorf("postgres: liability: %w", err)
	}
	if err := start(opening, closing); err != nil {
		return err
	}
	// A redemption carries its order's tax split (order_redemptions,
	// when the platform reported net and tax for all of its credit); the
	// lateral lookup runs for redemptions only (a one-time filter).
	rows, err := tx.Query(ctx, `SELECT t.created_at, t.id, t.idem_key, coalesce(t.reverses, 0),
	t.reason->>'kind', coalesce(t.reason->>'order_id', ''), coalesce(t.reason->>'order_number', ''), p.bucket, p.amount, r.amount, r.net, r.tax
FROM ledger_transactions t
JOIN ledger_postings p ON p.shop_id = t.shop_id AND p.tx_id = t.id
LEFT JOIN LATERAL (SELECT sum(o.amount) AS amount, sum(o.net) AS net, sum(o.tax) AS tax
	FROM order_redemptions o
	WHERE p.bucket = 'redeemed' AND o.shop_id = t.shop_id AND o.order_id = t.order_id AND o.currency = p.currency
	HAVING bool_and(o.tax IS NOT NULL)) r ON true
WHERE t.shop_id = $1 AND t.created_at >= $2 AND t.created_at < $3
AND p.owner_kind = 'program' AND p.currency = $4 AND p.bucket IN `+programBuckets+`
ORDER BY t.id, p.seq`, shopID, p.From, p.To, currency)
	if err != nil {
		return fmt.Errorf("postgres: program postings: %w", err)
	}
	defer rows.Close()
	r := core.PostingRecord{Currency: currency, Owner: core.ProgramOwner}
	var kind, bucket string
	var split core.OrderTaxSplit
	var sAmount, sNet, sTax decimal.NullDecimal
	for rows.Next() {
		// Only what the bookings use of the reason is read (decoding
		// every reason's JSON would double the export's CPU).
		r.Reason, r.OrderTax = core.Reason{}, nil
		if err := rows.Scan(&r.CreatedAt, &r.TransactionID, &r.Key, &r.Reverses, &kind, &r.Reason.OrderID, &r.Reason.OrderNumber,
			&bucket, &r.Amount, &sAmount, &sNet, &sTax); err != nil {
			return fmt.Errorf("postgres: program postings: %w", err)
		}
		r.Reason.Kind = core.ReasonKind(kind)
		if sAmount.Valid && sNet.Valid && sTax.Valid {
			split = core.OrderTaxSplit{Amount: sAmount.Decimal, Net: sNet.Decimal, Tax: sTax.Decimal}
			r.OrderTax = &split
		}
		r.Bucket = core.Bucket(bucket)
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}
