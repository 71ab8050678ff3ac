package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

// Exporter streams a shop's postings for the accounting export.
type Exporter interface {
	ExportPostings(ctx context.Context, shopID int64, from, to time.Time, fn func(core.PostingRecord) error) error
}

func init() {
	extraRouteFuncs = append(extraRouteFuncs, func(s *Server, _ *fiber.App, api fiber.Router) {
		api.Get("/shops/:shop/export.csv", s.adminAuth, s.exportCSV)
	})
}

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
	exp, ok := s.deps.Ledger.(Exporter)
	if !ok {
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
