package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only when PPROF_ADDR is set
	"sync"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/wire"
	"github.com/hibiken/asynq"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// app is the wired service (internal/wire builds it for every command and
// for the tests).
type app = wire.App

func openDB(ctx context.Context, cfg configs.Config) (*pgxpool.Pool, error) {
	return wire.OpenDB(ctx, cfg)
}

func build(ctx context.Context, cfg configs.Config, log *slog.Logger) (*app, error) {
	return wire.Build(ctx, cfg, log, wire.Options{})
}

// serve runs the HTTP server and/or the worker until ctx ends, then shuts
// down in order: HTTP (finish requests) → worker (finish tasks) → clients
// → Redis → ledger committers → PostgreSQL. started, if set, is called
// with the listening address once HTTP accepts connections.
func serve(ctx context.Context, cfg configs.Config, log *slog.Logger, started func(addr string, a *app)) error {
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	web := cfg.Role == "all" || cfg.Role == "web"
	work := cfg.Role == "all" || cfg.Role == "worker"
	if cfg.PprofAddr != "" {
		go func() {
			log.Info("pprof listening", slog.String("addr", cfg.PprofAddr))
			srv := &http.Server{Addr: cfg.PprofAddr, ReadHeaderTimeout: 5 * time.Second} // DefaultServeMux carries net/http/pprof
			if err := srv.ListenAndServe(); err != nil {
				log.Warn("pprof listener stopped", slog.Any("error", err))
			}
		}()
	}
	var ln net.Listener
	if web {
		if ln, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.HTTPAddr, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := a.HTTP.Listener(ln); err != nil {
				errc <- fmt.Errorf("http: %w", err)
			}
		}()
		log.Info("http listening", slog.String("addr", ln.Addr().String()))
	}
	var srv *asynq.Server
	bg, stopBG := context.WithCancel(context.Background())
	defer stopBG()
	if work {
		if srv, err = a.StartWorker(); err != nil {
			return err
		}
		log.Info("worker started", slog.String("queue", cfg.Queue), slog.Int("concurrency", cfg.WorkerConcurrency))
		a.StartPeriodic(bg, &wg)
	}
	if started != nil && ln != nil {
		started(ln.Addr().String(), a)
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down")
	stopBG()
	if web {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout/2)
		if e := a.HTTP.ShutdownWithContext(sctx); e != nil {
			log.Warn("http shutdown", slog.Any("error", e))
		}
		cancel()
	}
	if srv != nil {
		srv.Stop()
		srv.Shutdown()
	}
	wg.Wait()
	log.Info("stopped")
	return err
}

func migrate(ctx context.Context, cfg configs.Config, log *slog.Logger, out io.Writer) error {
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer pool.Close()
	applied, err := postgres.Migrate(ctx, pool)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(out, "schema is up to date")
	}
	for _, n := range applied {
		fmt.Fprintln(out, "applied", n)
	}
	return nil
}

func audit(ctx context.Context, cfg configs.Config, shop int64, asJSON bool, out io.Writer) (bool, error) {
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return false, err
	}
	defer pool.Close()
	r, err := postgres.Audit(ctx, pool, shop)
	if err != nil {
		return false, err
	}
	if asJSON {
		b, _ := json.MarshalIndent(r, "", "  ")
		fmt.Fprintln(out, string(b))
	} else {
		fmt.Fprint(out, r.String())
	}
	return r.OK(), nil
}

// reseal opens every shop's secrets (with the current or previous key) and
// stores them sealed with the current key.
func reseal(ctx context.Context, cfg configs.Config, log *slog.Logger, out io.Writer) error {
	a, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	n := 0
	for _, p := range []core.Platform{core.PlatformShopify, core.PlatformWooCommerce} {
		rows, err := a.Pool.Query(ctx, `SELECT id FROM shops WHERE platform = $1 ORDER BY id`, string(p))
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		for _, id := range ids {
			shop, err := a.Shops.ShopByID(ctx, id)
			if err != nil {
				return fmt.Errorf("shop %d: %w", id, err)
			}
			if err := a.Shops.UpdateShop(ctx, shop); err != nil {
				return fmt.Errorf("shop %d: %w", id, err)
			}
			n++
		}
	}
	if err := a.Shops.ResealCanary(ctx); err != nil {
		return fmt.Errorf("key canary: %w", err)
	}
	fmt.Fprintf(out, "re-sealed the secrets of %d shop(s) and the key canary with the current key\n", n)
	return nil
}
