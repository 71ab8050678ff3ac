package main

import (
	"context"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/jackc/pgx/v5/pgxpool"
)

// postgresPool reads the server's database to watch progress.
type postgresPool struct{ *pgxpool.Pool }

func openServerDB(ctx context.Context, url string) (*postgresPool, error) {
	p, err := postgres.Open(ctx, url, 2)
	if err != nil {
		return nil, err
	}
	return &postgresPool{p}, nil
}

// processed counts the shop's inbox events that are done.
func (p *postgresPool) processed(ctx context.Context, shopID int64) (int64, error) {
	var n int64
	err := p.QueryRow(ctx, `SELECT count(*) FROM inbox WHERE shop_id = $1 AND status <> 'received'`, shopID).Scan(&n)
	return n, err
}

// creditedOrders counts orders with at least one earning.
func (p *postgresPool) creditedOrders(ctx context.Context, shopID int64) (int64, error) {
	var n int64
	err := p.QueryRow(ctx, `SELECT count(DISTINCT order_id) FROM ledger_transactions WHERE shop_id = $1 AND kind = 'earn'`, shopID).Scan(&n)
	return n, err
}
