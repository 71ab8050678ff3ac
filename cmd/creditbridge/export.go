package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/creditbridge/creditbridge/adapters/datev"
	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/configs"
	"github.com/creditbridge/creditbridge/core"
	"github.com/creditbridge/creditbridge/internal/wire"
)

// exportCmd runs `creditbridge export datev|report`: it wires the stores
// and hands over to adapters/datev and core (exit 2 for bad input).
func exportCmd(ctx context.Context, cfg configs.Config, args []string, stdout, stderr io.Writer) (int, error) {
	if len(args) == 0 || (args[0] != "datev" && args[0] != "report") {
		fmt.Fprint(stderr, "usage: creditbridge export datev|report --shop ID --from YYYY-MM-DD --to YYYY-MM-DD [--currency C] [--format json|csv] [--out FILE]\n")
		return 2, nil
	}
	kind := args[0]
	fs := flag.NewFlagSet("export "+kind, flag.ContinueOnError)
	fs.SetOutput(stderr)
	shopID := fs.Int64("shop", 0, "shop id (required)")
	from := fs.String("from", "", "first day, YYYY-MM-DD (required)")
	to := fs.String("to", "", "day after the last day, YYYY-MM-DD (required)")
	currency := fs.String("currency", "", "currency (default: the shop's)")
	format := fs.String("format", "json", "report format: json or csv")
	out := fs.String("out", "", "write to this file instead of stdout")
	if err := fs.Parse(args[1:]); err != nil {
		return 2, nil
	}
	if *shopID <= 0 {
		return 2, fmt.Errorf("--shop is required")
	}
	if kind == "report" && *format != "json" && *format != "csv" {
		return 2, fmt.Errorf("--format must be json or csv")
	}
	box, err := wire.NewSealer(cfg)
	if err != nil {
		return 1, err
	}
	pool, err := openDB(ctx, cfg)
	if err != nil {
		return 1, err
	}
	defer pool.Close()
	shop, err := postgres.NewShopStore(pool, box).ShopByID(ctx, *shopID)
	if err != nil {
		return exitCode(err), fmt.Errorf("shop %d: %s", *shopID, core.ErrorMessage(err))
	}
	cur := shop.Currency
	if *currency != "" {
		if cur, err = core.NormalizeCurrency(*currency); err != nil {
			return 2, fmt.Errorf("%s", core.ErrorMessage(err))
		}
	}
	p, err := core.ParsePeriod(*from, *to, shop.Settings.AccountingLocation())
	if err != nil {
		return 2, fmt.Errorf("%s", core.ErrorMessage(err))
	}
	ledger := postgres.NewLedgerStore(pool, 1)
	defer ledger.Close()
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return 1, err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if kind == "datev" {
		h, settings, err := datev.Prepare(shop, cur, p, time.Now())
		if err != nil {
			return exitCode(err), fmt.Errorf("%s", core.ErrorMessage(err))
		}
		n, err := datev.Export(ctx, bw, ledger, shop.ID, settings, h, p)
		if err != nil {
			return 1, fmt.Errorf("DATEV export failed after %d bookings (the output is incomplete): %w", n, err)
		}
		fmt.Fprintf(stderr, "wrote %d bookings\n", n)
	} else {
		rep, err := core.BuildPeriodReport(ctx, ledger, shop, cur, p)
		if err != nil {
			return 1, err
		}
		if *format == "csv" {
			err = rep.WriteCSV(bw)
		} else {
			enc := json.NewEncoder(bw)
			enc.SetIndent("", "  ")
			err = enc.Encode(rep)
		}
		if err != nil {
			return 1, err
		}
	}
	if err := bw.Flush(); err != nil {
		return 1, err
	}
	return 0, nil
}

// exitCode is 2 for bad input, 1 otherwise.
func exitCode(err error) int {
	if c := core.ErrorCode(err); c == core.EINVALID || c == core.ENOTFOUND {
		return 2
	}
	return 1
}
