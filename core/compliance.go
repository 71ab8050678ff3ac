package core

import "context"

// Compliance carries out the platforms' privacy and lifecycle requests.
type Compliance interface {
	// DataRequest records a report of what is held on a customer.
	DataRequest(ctx context.Context, shop Shop, c CustomerRef, requestID string) error
	// RedactCustomer anonymizes a customer's identity; the books stay
	// balanced because the ledger only knows opaque owner ids.
	RedactCustomer(ctx context.Context, shop Shop, c CustomerRef) error
	// PurgeShop deletes all of a shop's data.
	PurgeShop(ctx context.Context, shop Shop) error
	// Deactivate marks a shop inactive (app uninstalled).
	Deactivate(ctx context.Context, shop Shop) error
}
