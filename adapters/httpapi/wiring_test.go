package httpapi

// The harnesses of this package (plugEnv, sappEnv) build the service with
// the production builder, internal/wire, as harness_test.go does for the
// external tests. This package cannot import internal/wire (it imports
// httpapi); wirehook_test.go, in package httpapi_test of the same test
// binary, can, and sets WireForTest before any test runs.

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/metrics"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5/pgxpool"
	goredis "github.com/redis/go-redis/v9"
)

// WireOptions is what a harness hands the production wiring: the
// configuration and the test's pool, Redis client and Shopify HTTP client
// (see wire.Options).
type WireOptions struct {
	Config            configs.Config
	Log               *slog.Logger
	Pool              *pgxpool.Pool
	Redis             *goredis.Client
	ShopifyHTTPClient *http.Client
}

// Wired is what the harnesses use of the wired service (wire.App).
type Wired struct {
	App      *fiber.App
	Server   *Server
	Ledger   *postgres.LedgerStore
	Shops    *postgres.ShopStore
	Earner   *core.Earner
	Vouchers *core.Vouchers
	Metrics  *metrics.Metrics
	// StartWorker starts the asynq worker with every task handler.
	StartWorker func() (*asynq.Server, error)
}

// WireForTest builds the service with internal/wire and releases what it
// built when the test ends (after the test's later cleanups: stop the
// HTTP app and the worker in those); its queue is deleted then.
var WireForTest func(t *testing.T, o WireOptions) *Wired

// wireForTest is WireForTest, failing the test when no hook set it.
func wireForTest(t *testing.T, o WireOptions) *Wired {
	t.Helper()
	if WireForTest == nil {
		t.Fatal("WireForTest is not set: wirehook_test.go (package httpapi_test) sets it")
	}
	return WireForTest(t, o)
}
