package postgres

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/creditbridge/creditbridge/core"
)

// Compliance implements core.Compliance.
type Compliance struct {
	Shops     *ShopStore
	Directory *Directory
	Ledger    *LedgerStore
}

var _ core.Compliance = (*Compliance)(nil)

// DataReport is what a customers/data_request reports.
type DataReport struct {
	RequestID string         `json:"request_id"`
	Customer  CustomerData   `json:"customer"`
	Balances  []core.Balance `json:"balances"`
	Entries   int            `json:"statement_entries"`
}

// DataRequest stores a report of what creditbridge holds on the customer.
func (c *Compliance) DataRequest(ctx context.Context, shop core.Shop, ref core.CustomerRef, requestID string) error {
	data, err := c.Directory.CustomerRecords(ctx, shop, ref)
	if err != nil {
		return err
	}
	rep := DataReport{RequestID: requestID, Customer: data, Balances: []core.Balance{}}
	for _, id := range data.OwnerIDs {
		rows, err := c.Ledger.pool.Query(ctx, `SELECT currency, available, pending, held, overdraft, version FROM ledger_balances WHERE shop_id = $1 AND owner_kind = 'customer' AND owner_id = $2`, shop.ID, id)
		if err != nil {
			return err
		}
		for rows.Next() {
			b := core.Balance{Owner: core.Owner{Kind: core.OwnerCustomer, ID: id}}
			if err := rows.Scan(&b.Currency, &b.Available, &b.Pending, &b.Held, &b.Overdraft, &b.Version); err != nil {
				rows.Close()
				return err
			}
			rep.Entries += int(b.Version)
			rep.Balances = append(rep.Balances, b)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	b, err := json.Marshal(rep)
	if err != nil {
		return err
	}
	_, err = c.Ledger.pool.Exec(ctx, `INSERT INTO data_requests (shop_id, request_id, report) VALUES ($1, $2, $3)`, shop.ID, requestID, b)
	if err != nil {
		return fmt.Errorf("postgres: store data request: %w", err)
	}
	return nil
}

// DataRequests lists a shop's data request reports, newest first.
func (c *Compliance) DataRequests(ctx context.Context, shopID int64) ([]json.RawMessage, error) {
	rows, err := c.Ledger.pool.Query(ctx, `SELECT report FROM data_requests WHERE shop_id = $1 ORDER BY id DESC LIMIT 100`, shopID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []json.RawMessage{}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// RedactCustomer anonymizes the customer (see Directory.RedactCustomer).
func (c *Compliance) RedactCustomer(ctx context.Context, shop core.Shop, ref core.CustomerRef) error {
	_, err := c.Directory.RedactCustomer(ctx, shop, ref)
	return err
}

// PurgeShop deletes the shop's data.
func (c *Compliance) PurgeShop(ctx context.Context, shop core.Shop) error {
	return c.Shops.PurgeShop(ctx, shop.ID)
}

// Deactivate marks the shop inactive.
func (c *Compliance) Deactivate(ctx context.Context, shop core.Shop) error {
	shop.Active = false
	return c.Shops.UpdateSettings(ctx, shop)
}
