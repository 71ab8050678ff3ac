package httpapi_test

import (
	"context"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/httpapi"
	"github.com/creditbridge/creditbridge/internal/wire"
)

// The production wiring for the harnesses of package httpapi (see
// wiring_test.go there).
func init() {
	httpapi.WireForTest = func(t *testing.T, o httpapi.WireOptions) *httpapi.Wired {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		a, err := wire.Build(ctx, o.Config, o.Log, wire.Options{Pool: o.Pool, Redis: o.Redis, ShopifyHTTPClient: o.ShopifyHTTPClient})
		if err != nil {
			t.Fatalf("wire: %v", err)
		}
		t.Cleanup(func() {
			// asynq keys embed the queue name: remove this test's queue.
			_ = a.Inspector.DeleteQueue(o.Config.Queue, true)
			a.Close()
		})
		return &httpapi.Wired{App: a.HTTP, Server: a.Server, Ledger: a.Ledger, Shops: a.Shops, Earner: a.Earner, Vouchers: a.Vouchers, Metrics: a.Metrics,
			StartWorker: a.StartWorker}
	}
}
