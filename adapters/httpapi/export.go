package httpapi

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/datev"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// Exporter streams a shop's postings for the accounting export.
type Exporter interface {
	ExportPostings(ctx context.Context, shopID int64, from, to time.Time, fn func(core.PostingRecord) error) error
}

func init() {
	extraRouteFuncs = append(extraRouteFuncs, func(s *Server, app *fiber.App, api fiber.Router) {
		// Exports stream for minutes; every other response keeps the
		// server's 10 s write timeout.
		app.Server().HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
			if bytes.Contains(h.RequestURI(), []byte("/export")) {
				return fasthttp.RequestConfig{WriteTimeout: exportWriteTimeout}
			}
			return fasthttp.RequestConfig{}
		}
		api.Get("/shops/:shop/export.csv", s.adminAuth, s.exportCSV)
		api.Get("/shops/:shop/export/datev.csv", s.adminAuth, s.exportDATEV)
		api.Get("/shops/:shop/export/report.json", s.adminAuth, s.periodReport)
		api.Get("/shops/:shop/export/report.csv", s.adminAuth, s.periodReport)
	})
}

// exportWriteTimeout bounds writing one export response.
const exportWriteTimeout = 30 * time.Minute

// maxExportRange bounds one export request.
const maxExportRange = 366 * 24 * time.Hour

// exportCSV streams every posting of a period as CSV, one line per
// posting with its transaction's context, for the merchant's accountant:
// GET /api/v1/shops/:shop/export.csv?from=2026-01-01&to=2026-02-01 (UTC
// dates, to exclusive; default: the last 31 days).
func (s *Server) exportCSV(c *fiber.Ctx) error {
	shop, err := s.scopedShop(c)
	if err != nil {
		return err
	}
	exp := s.deps.Exports
	if exp == nil {
		return core.Errorf(core.ENOTFOUND, "export is not available")
	}
	to := time.Now().UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	from := to.Add(-31 * 24 * time.Hour)
	if v := c.Query("from"); v != "" {
		if from, err = time.Parse("2006-01-02", v); err != nil {
			return core.Errorf(core.EINVALID, "from must be a date like 2026-01-31")
		}
	}
	if v := c.Query("to"); v != "" {
		if to, err = time.Parse("2006-01-02", v); err != nil {
			return core.Errorf(core.EINVALID, "to must be a date like 2026-02-01")
		}
	}
	if !from.Before(to) || to.Sub(from) > maxExportRange {
		return core.Errorf(core.EINVALID, "the period must be from < to and at most 366 days")
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="creditbridge-shop`+strconv.FormatInt(shop.ID, 10)+`-`+from.Format("20060102")+`-`+to.Format("20060102")+`.csv"`)
	ledger := exp
	shopID := shop.ID
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"created_at", "transaction_id", "idempotency_key", "reverses", "kind", "order_id", "order_number", "line_id", "product_id", "sku", "product", "rule",
			"beneficiary", "refund_id", "hold_id", "voucher_id", "actor", "note", "currency", "owner_kind", "owner_id", "bucket", "amount"})
		err := ledger.ExportPostings(ctx, shopID, from, to, func(r core.PostingRecord) error {
			rev := ""
			if r.Reverses != 0 {
				rev = strconv.FormatInt(r.Reverses, 10)
			}
			rs := r.Reason
			return cw.Write([]string{r.CreatedAt.UTC().Format(time.RFC3339), strconv.FormatInt(r.TransactionID, 10), r.Key, rev, string(rs.Kind), rs.OrderID, rs.OrderNumber,
				rs.LineID, rs.ProductID, rs.SKU, csvSafe(rs.Product), rs.Rule, rs.Beneficiary, rs.RefundID, rs.HoldID, rs.VoucherID, csvSafe(rs.Actor), csvSafe(rs.Note),
				r.Currency, string(r.Owner.Kind), r.Owner.ID, string(r.Bucket), core.StringFixedFor(r.Currency, r.Amount)})
		})
		if err != nil {
			// Headers are gone: end the file with a marker line so a
			// truncated export is never mistaken for a complete one.
			_ = cw.Write([]string{"# export incomplete: " + core.ErrorMessage(err)})
		}
		cw.Flush()
	})
	return nil
}

// csvSafe defuses spreadsheet formulas in free text (product titles,
// notes): a leading =, +, - or @ is prefixed with a quote.
func csvSafe(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@') {
		return "'" + v
	}
	return v
}

// accountingQuery resolves the shop, the program posting source, the
// currency (default the shop's) and the period (from and to required, to
// exclusive, in the shop's accounting time zone, at most a year).
func (s *Server) accountingQuery(c *fiber.Ctx) (core.Shop, core.ProgramPostingSource, string, core.Period, error) {
	shop, err := s.scopedShop(c)
	if err != nil {
		return shop, nil, "", core.Period{}, err
	}
	src := s.deps.Accounting
	if src == nil {
		return shop, nil, "", core.Period{}, core.Errorf(core.ENOTFOUND, "accounting exports are not available")
	}
	cur, err := currencyOf(c, shop)
	if err != nil {
		return shop, nil, "", core.Period{}, err
	}
	p, err := core.ParsePeriod(c.Query("from"), c.Query("to"), shop.Settings.AccountingLocation())
	return shop, src, cur, p, err
}

// exportDATEV streams the period's credit bookings as a DATEV
// Buchungsstapel (EXTF, Windows-1252):
// GET /api/v1/shops/:shop/export/datev.csv?from=2026-01-01&to=2026-02-01.
func (s *Server) exportDATEV(c *fiber.Ctx) error {
	shop, src, cur, p, err := s.accountingQuery(c)
	if err != nil {
		return err
	}
	h, settings, err := datev.Prepare(shop, cur, p, time.Now())
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=windows-1252")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="EXTF_Buchungsstapel_creditbridge_`+strconv.FormatInt(shop.ID, 10)+`_`+
		p.From.Format("20060102")+`_`+p.LastDay().Format("20060102")+`.csv"`)
	shopID := shop.ID
	log := s.log
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		if _, err := datev.Export(ctx, w, src, shopID, settings, h, p); err != nil {
			// Headers are gone: a last line DATEV refuses to import
			// marks the file as incomplete.
			log.Error("DATEV export failed", slog.Int64("shop", shopID), slog.Any("error", err))
			_, _ = w.WriteString("# export incomplete: " + core.ErrorMessage(err) + "\r\n")
			_ = w.Flush()
		}
	})
	return nil
}

// periodReport answers the period report as JSON (report.json) or CSV
// (report.csv): liability at the start and end, issued, redeemed, expired
// and adjusted credit, in total and per VAT rate.
func (s *Server) periodReport(c *fiber.Ctx) error {
	shop, src, cur, p, err := s.accountingQuery(c)
	if err != nil {
		return err
	}
	ctx, cancel := reqCtx(c, 5*time.Minute)
	defer cancel()
	rep, err := core.BuildPeriodReport(ctx, src, shop, cur, p)
	if err != nil {
		return err
	}
	if strings.HasSuffix(c.Path(), ".csv") {
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="creditbridge-report-`+strconv.FormatInt(shop.ID, 10)+`-`+rep.From+`-`+rep.To+`.csv"`)
		var b bytes.Buffer
		if err := rep.WriteCSV(&b); err != nil {
			return err
		}
		return c.Send(b.Bytes())
	}
	return c.JSON(rep)
}
