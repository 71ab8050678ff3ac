package httpapi

// Pages for people: the templates (embedded html/template files in
// templates/), the language and time zone a request gets, and the
// customer's view of a statement (localized amounts and dates, hold and
// release pairs left out, "available from" for pending credit, issued
// vouchers, how credit is earned).

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
	"github.com/shopspring/decimal"
)

//go:embed templates/*.html
var templateFS embed.FS

var pages = template.Must(template.New("pages").Funcs(template.FuncMap{
	"lq": liquidHTML,
}).ParseFS(templateFS, "templates/*.html"))

// render executes the named template into a string.
func render(name string, data any) (string, error) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("httpapi: render %s: %w", name, err)
	}
	return b.String(), nil
}

// localeFor picks the language for a page of shop: override (the
// merchant's admin language, a plugin's WordPress locale) when it names a
// supported language, else the shop's locale, then the browser's
// Accept-Language; dates are shown in the shop's time zone.
func localeFor(c *fiber.Ctx, shop core.Shop, override string) *i18n.Locale {
	pref := shop.Settings.Locale
	if override != "" && i18n.ValidLocale(override) {
		pref = override
	}
	return i18n.New(i18n.Match(pref, c.Get(fiber.HeaderAcceptLanguage)), shop.Settings.TimeZone)
}

// money formats an amount of cur for l at the currency's decimals.
func money(l *i18n.Locale, cur string, d decimal.Decimal) string {
	return l.Money(cur, core.StringFixedFor(cur, d))
}

// parseAmountInput parses an amount a person typed (decimal comma and
// thousands separators accepted).
func parseAmountInput(cur, s string) (decimal.Decimal, error) {
	return core.ParseAmount(cur, i18n.NormalizeDecimal(s))
}

// DescribeIn renders a reason as one line in l's language.
func DescribeIn(l *i18n.Locale, r core.Reason) string {
	key := "reason." + string(r.Kind)
	label := l.T(key)
	if label == key {
		label = string(r.Kind)
	}
	parts := []string{label}
	if r.OrderNumber != "" {
		parts = append(parts, l.T("reason.order", r.OrderNumber))
	} else if r.OrderID != "" {
		parts = append(parts, l.T("reason.order", r.OrderID))
	}
	if r.Product != "" {
		parts = append(parts, r.Product)
	}
	if r.Beneficiary != "" && r.Beneficiary != core.BeneficiaryBuyer {
		parts = append(parts, l.T("reason.referral", strings.TrimPrefix(r.Beneficiary, "partner")))
	}
	if (r.Kind == core.ReasonActivity || r.Kind == core.ReasonActivityRevoke) && r.Rule != "" {
		if a := l.T("activity." + r.Rule); a != "activity."+r.Rule {
			parts = append(parts, a)
		} else {
			parts = append(parts, r.Rule)
		}
	}
	if (r.Kind == core.ReasonAdjustment || r.Kind == core.ReasonExpire) && r.Note != "" {
		parts = append(parts, r.Note)
	}
	return strings.Join(parts, " · ")
}

// DescribeWithheld renders credit an earning cap kept from being booked
// as one statement line in l's language: the order, the level for a
// partner, the amount and which cap.
func DescribeWithheld(l *i18n.Locale, cur string, w core.WithheldNotice) string {
	parts := []string{l.T("reason.earn_withheld")}
	if w.OrderNumber != "" {
		parts = append(parts, l.T("reason.order", w.OrderNumber))
	} else {
		parts = append(parts, l.T("reason.order", w.OrderID))
	}
	if w.Beneficiary != "" && w.Beneficiary != core.BeneficiaryBuyer {
		parts = append(parts, l.T("reason.referral", strings.TrimPrefix(w.Beneficiary, "partner")))
	}
	amount := money(l, cur, w.Amount)
	if why := l.T("withheld."+w.Cap, amount); why != "withheld."+w.Cap {
		parts = append(parts, why)
	} else {
		parts = append(parts, amount+" ("+w.Cap+")")
	}
	return strings.Join(parts, " · ")
}

// withheldBefore returns how many of the notices (newest first) belong
// above an entry created at t: those at least as new.
func withheldBefore(ws []core.WithheldNotice, t time.Time) int {
	n := 0
	for n < len(ws) && !ws[n].CreatedAt.Before(t) {
		n++
	}
	return n
}

var englishUTC = i18n.New(i18n.English, "")

// custRow is one line of a customer's statement.
type custRow struct {
	Date, Description, Change, Balance, Note string
	Negative                                 bool
}

// custVoucher is one issued voucher code.
type custVoucher struct {
	Code, Amount, Expires, State string
	Usable                       bool
}

// custStatement is what a customer sees of their credit.
type custStatement struct {
	L                            *i18n.Locale
	Available, Pending, Held     string
	HasPending, HasHeld          bool
	PendingFrom                  string
	Rows                         []custRow
	Vouchers                     []custVoucher
	EarnHints                    []string
	HasNewer, HasOlder           bool
	NewerCursor, OlderCursor     int64
	CurrencyCode                 string
	VouchersEnabled, CanVouchers bool
	// Tier and TierNext: the customer's tier and what is missing to the
	// next one (shops with tiers; empty otherwise).
	Tier, TierNext string
}

// total is an entry's change of everything the owner has (available,
// pending, held and overdraft): a hold or its release changes nothing.
func total(e core.StatementEntry) decimal.Decimal {
	return e.Available.Add(e.Pending).Add(e.Held).Add(e.Overdraft)
}

// customerStatement builds the customer's view: a page of their
// statement without hold pairs, their balance, vouchers and, when they
// have nothing yet, how credit is earned.
func (s *Server) customerStatement(ctx context.Context, l *i18n.Locale, shop core.Shop, owner core.Owner, before, after int64, limit int) (custStatement, error) {
	cur := shop.Currency
	cs := custStatement{L: l, CurrencyCode: cur, VouchersEnabled: s.deps.Vouchers != nil}
	bal, err := s.deps.Ledger.Balance(ctx, shop.ID, cur, owner)
	if err != nil {
		return cs, err
	}
	q := core.StatementQuery{ShopID: shop.ID, Currency: cur, Owner: owner, Before: before, After: after, Limit: limit, HideHolds: true}
	page, err := s.deps.Ledger.Statement(ctx, q)
	if err == nil && before <= 0 && after > 0 && page.PrevAfter == 0 {
		// Paging forward reached the newest entries: show the first page
		// (full, and without a link to newer entries).
		q.After, after = 0, 0
		page, err = s.deps.Ledger.Statement(ctx, q)
	}
	if err != nil {
		return cs, err
	}
	cs.Available, cs.Pending, cs.Held = money(l, cur, bal.Available), money(l, cur, bal.Pending), money(l, cur, bal.Held)
	cs.HasPending, cs.HasHeld = bal.Pending.IsPositive(), bal.Held.IsPositive()
	cs.CanVouchers = cs.VouchersEnabled && bal.Available.IsPositive()
	if s.deps.Tiers != nil && shop.Settings.TiersEnabled() && owner.Kind == core.OwnerCustomer {
		st, err := core.CustomerTier(ctx, s.deps.Tiers, shop, owner, time.Now())
		if err != nil {
			return cs, err
		}
		cs.Tier = st.Tier
		if st.Next != "" && st.Missing.Valid {
			cs.TierNext = l.T("stmt.tier_next", money(l, cur, st.Missing.Decimal), st.Next)
		}
	}
	days := shop.Settings.PendingDays
	now := time.Now()
	var earliest time.Time
	withheld := page.Withheld
	notices := func(n int) { // credit caps kept from being booked: a line without a change
		for _, w := range withheld[:n] {
			cs.Rows = append(cs.Rows, custRow{Date: l.Date(w.CreatedAt), Description: DescribeWithheld(l, cur, w)})
		}
		withheld = withheld[n:]
	}
	for _, e := range page.Entries {
		notices(withheldBefore(withheld, e.CreatedAt))
		row := custRow{Date: l.Date(e.CreatedAt), Description: DescribeIn(l, e.Reason)}
		d := total(e)
		if e.Reason.Kind == core.ReasonMature {
			row.Description += " · " + money(l, cur, e.Available)
		} else {
			row.Change = money(l, cur, d)
			if d.IsPositive() {
				row.Change = "+" + row.Change
			}
			row.Negative = d.IsNegative()
		}
		row.Balance = money(l, cur, e.AvailableAfter.Add(e.PendingAfter).Add(e.HeldAfter).Add(e.OverdraftAfter))
		if e.Pending.IsPositive() && days > 0 {
			from := e.CreatedAt.AddDate(0, 0, days)
			if from.After(now) {
				row.Note = l.T("stmt.pending_note", l.Date(from))
				if earliest.IsZero() || from.Before(earliest) {
					earliest = from
				}
			}
		}
		cs.Rows = append(cs.Rows, row)
	}
	notices(len(withheld))
	if cs.HasPending && !earliest.IsZero() {
		cs.PendingFrom = l.Date(earliest)
	}
	if page.NextBefore != 0 {
		cs.HasOlder, cs.OlderCursor = true, page.NextBefore
	}
	if page.PrevAfter != 0 {
		cs.HasNewer, cs.NewerCursor = true, page.PrevAfter
	}
	vs, err := s.deps.Store.VouchersFor(ctx, shop.ID, owner)
	if err != nil {
		return cs, err
	}
	for _, v := range vs {
		if v.Currency != cur {
			continue
		}
		state := string(v.Status)
		if v.Status == core.VoucherReturned {
			state = "expired"
		}
		cs.Vouchers = append(cs.Vouchers, custVoucher{Code: v.Code, Amount: money(l, cur, v.Amount), Expires: l.Date(v.ExpiresAt),
			State: l.T("voucher." + state), Usable: v.Status == core.VoucherIssued})
	}
	if len(cs.Rows) == 0 && before == 0 && after == 0 {
		cs.EarnHints = s.earnHints(ctx, l, shop)
	}
	return cs, nil
}

// earnHints explains, from the shop's rules, how buyers earn credit.
func (s *Server) earnHints(ctx context.Context, l *i18n.Locale, shop core.Shop) []string {
	rules, err := s.deps.Store.ListRules(ctx, shop.ID)
	if err != nil {
		s.log.Warn("rules for the empty statement", "shop", shop.ID, "error", err)
		rules = nil
	}
	var out []string
	specific := false
	for _, r := range rules {
		if r.Beneficiary != core.BeneficiaryBuyer && r.Beneficiary != "" {
			continue
		}
		if r.Target != core.TargetDefault {
			if r.Mode != core.ModeExclude {
				specific = true
			}
			continue
		}
		switch r.Mode {
		case core.ModePercent:
			out = append(out, l.T("stmt.earn_percent", percentText(l, r.Value)))
		case core.ModeFixed:
			out = append(out, l.T("stmt.earn_fixed", money(l, shop.Currency, r.Value)))
		}
	}
	if specific {
		out = append(out, l.T("stmt.earn_products"))
	}
	out = append(out, l.T("stmt.earn_generic"))
	if shop.Settings.PendingDays > 0 {
		out = append(out, l.T("stmt.earn_pending", shop.Settings.PendingDays))
	}
	return out
}

// percentText formats a percentage ("2,5" in German).
func percentText(l *i18n.Locale, d decimal.Decimal) string {
	t := d.String()
	if l.German() {
		t = strings.Replace(t, ".", ",", 1)
	}
	return t
}

// sendLiquidPage renders a storefront page (application/liquid: Shopify
// renders it inside the shop's theme). Liquid would evaluate {{ }} and
// {% %}, so every brace in the output becomes a character reference; the
// templates use none outside template actions, and character references
// mean the same as the braces in HTML text and attributes.
func sendLiquidPage(c *fiber.Ctx, status int, name string, data any) error {
	out, err := render(name, data)
	if err != nil {
		return err
	}
	out = strings.NewReplacer("{", "&#123;", "}", "&#125;").Replace(out)
	c.Set(fiber.HeaderContentType, "application/liquid; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).SendString(out)
}

// customerError is an error page's content.
type customerError struct {
	L       *i18n.Locale
	Message string
	Back    string
}

// customerMessage words err for a customer in l's language; the detail of
// internal errors is logged, never shown.
func (s *Server) customerMessage(c *fiber.Ctx, l *i18n.Locale, err error, available string) string {
	switch core.ErrorCode(err) {
	case core.EINSUFFICIENT:
		return l.T("err.insufficient", available)
	case core.EINVALID:
		msg := core.ErrorMessage(err)
		switch {
		case strings.Contains(msg, "decimals"):
			return l.T("err.amount_decimals", 2)
		case strings.Contains(msg, "positive"):
			return l.T("err.amount_positive")
		}
		return l.T("err.amount")
	case core.EUNAUTHORIZED:
		return l.T("err.form_expired")
	case core.ENOTFOUND:
		return l.T("err.not_found")
	case core.ECONFLICT:
		return l.T("err.conflict")
	}
	s.log.Error("internal error", "method", c.Method(), "path", c.Route().Path, "error", err)
	return l.T("err.internal")
}

// statusOf is the HTTP status of err (as the JSON error handler would
// answer).
func statusOf(err error) int {
	if st, ok := codes[core.ErrorCode(err)]; ok {
		return st
	}
	return fiber.StatusInternalServerError
}
