// Command creditbridge is the loyalty-credit bridge: one binary with the
// subcommands serve (HTTP + worker), worker, migrate, audit, export,
// reseal and demo.
//
// Configuration comes from the environment (see configs/example.env).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/creditbridge/creditbridge/configs"
)

const usage = `usage: creditbridge <command> [flags]

commands:
  serve     run the HTTP API and the worker (ROLE=all|web|worker)
  worker    run only the worker (same as ROLE=worker serve)
  migrate   apply pending database migrations
  audit     check every ledger invariant; exits 1 with a report when one fails
            flags: --shop ID (default all shops), --json
  export    the tax advisor's exports of one shop and period (to stdout or --out):
              export datev  --shop ID --from 2026-03-01 --to 2026-04-01 [--currency EUR] [--out FILE]
              export report --shop ID --from 2026-03-01 --to 2026-04-01 [--format json|csv] [--out FILE]
            (to is exclusive; dates in the shop's accounting time zone; at most a year)
  reseal    re-encrypt every shop's secrets with the current key (after
            rotating CREDITBRIDGE_ENCRYPTION_KEY; then drop the previous key)
  demo      serve with a demo shop: sends signed order webhooks through the
            real HTTP endpoints and prints the resulting balance and statement
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.LookupEnv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	if cmd == "demo" {
		lookup = demoLookup(lookup)
	}
	cfg, err := configs.Load(lookup)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	if cmd == "worker" {
		cfg.Role = "worker"
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve", "worker", "demo":
		gc, fromEnv := applyServeGC(lookup)
		log.Info("garbage collector", slog.Int("gogc", gc), slog.Bool("from_env", fromEnv))
	}
	switch cmd {
	case "serve", "worker":
		err = serve(ctx, cfg, log, nil)
	case "migrate":
		err = migrate(ctx, cfg, log, stdout)
	case "audit":
		fs := flag.NewFlagSet("audit", flag.ContinueOnError)
		fs.SetOutput(stderr)
		shop := fs.Int64("shop", 0, "audit only this shop id (default: all shops)")
		asJSON := fs.Bool("json", false, "print the report as JSON")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		var ok bool
		ok, err = audit(ctx, cfg, *shop, *asJSON, stdout)
		if err == nil && !ok {
			return 1
		}
	case "export":
		var code int
		if code, err = exportCmd(ctx, cfg, args[1:], stdout, stderr); code != 0 {
			if err != nil {
				fmt.Fprintln(stderr, "creditbridge:", err)
			}
			return code
		}
	case "demo":
		err = demo(ctx, cfg, log, stdout)
	case "reseal":
		err = reseal(ctx, cfg, log, stdout)
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "creditbridge:", err)
		return 1
	}
	return 0
}

func newLogger(cfg configs.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
