package admin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

const (
	customerGIDPrefix = "gid://shopify/Customer/"
	maxCodeLength     = 255
)

// CreditMetafield is the JSON the discount Function reads from the
// customer metafield $app:creditbridge.available. All amounts are decimal
// strings in Currency; empty optional fields mean "no limit".
type CreditMetafield struct {
	// Amount is the available credit (required, >= 0).
	Amount string `json:"amount"`
	// Currency is the ISO 4217 code of every amount (required). The
	// Function applies no credit to a cart in another currency.
	Currency string `json:"currency"`
	// MaxPercent caps the credit at this percentage of the subtotal
	// (0 < p <= 100, at most 2 decimals).
	MaxPercent string `json:"max_percent,omitempty"`
	// MaxAmount caps the credit per order.
	MaxAmount string `json:"max_amount,omitempty"`
	// MinOrder is the minimum subtotal for credit to apply.
	MinOrder string `json:"min_order,omitempty"`
	// Labels name credit at checkout per language ("de", "en"); the
	// Function shows the buyer's (core.ShopSettings.CheckoutLabel).
	Labels map[string]string `json:"labels,omitempty"`
	// UpdatedAt is when creditbridge computed the balance.
	UpdatedAt time.Time `json:"updated_at"`
}

// normalize validates m and formats its amounts with the currency's
// scale.
func (m CreditMetafield) normalize() (CreditMetafield, error) {
	cur, err := core.NormalizeCurrency(m.Currency)
	if err != nil {
		return m, err
	}
	out := CreditMetafield{Currency: cur, UpdatedAt: m.UpdatedAt.UTC()}
	for lang, l := range m.Labels {
		l = strings.TrimSpace(l)
		if !slices.Contains(core.CheckoutLanguages, lang) || l == "" || utf8.RuneCountInString(l) > core.MaxDiscountLabel {
			return m, core.Errorf(core.EINVALID, "credit metafield: label %q for %q is not a label of 1..%d characters in de or en", l, lang, core.MaxDiscountLabel)
		}
		if out.Labels == nil {
			out.Labels = map[string]string{}
		}
		out.Labels[lang] = l
	}
	amt := func(name, s string, required bool) (string, error) {
		if strings.TrimSpace(s) == "" {
			if required {
				return "", core.Errorf(core.EINVALID, "credit metafield: %s is required", name)
			}
			return "", nil
		}
		d, err := core.ParseAmount(cur, s)
		if err != nil {
			return "", err
		}
		if d.IsNegative() {
			return "", core.Errorf(core.EINVALID, "credit metafield: %s %s is negative", name, s)
		}
		return core.StringFixedFor(cur, d), nil
	}
	if out.Amount, err = amt("amount", m.Amount, true); err != nil {
		return m, err
	}
	if out.MaxAmount, err = amt("max_amount", m.MaxAmount, false); err != nil {
		return m, err
	}
	if out.MinOrder, err = amt("min_order", m.MinOrder, false); err != nil {
		return m, err
	}
	if s := strings.TrimSpace(m.MaxPercent); s != "" {
		p, err := decimal.NewFromString(s)
		if err != nil || !p.IsPositive() || p.GreaterThan(decimal.NewFromInt(100)) || !p.Equal(p.Truncate(2)) {
			return m, core.Errorf(core.EINVALID, "credit metafield: max_percent %q must be a number in (0, 100] with at most 2 decimals", m.MaxPercent)
		}
		out.MaxPercent = p.String()
	}
	return out, nil
}

func checkGID(gid, prefix string) error {
	rest, ok := strings.CutPrefix(gid, prefix)
	if !ok || rest == "" || strings.ContainsAny(rest, " /\t\n") {
		return core.Errorf(core.EINVALID, "%q is not a %s… id", gid, prefix)
	}
	return nil
}

// SetCustomerCreditMetafield writes the customer's available credit into
// the metafield the discount Function reads. metafieldsSet replaces the
// value, so repeating the call is harmless.
func (c *Client) SetCustomerCreditMetafield(ctx context.Context, customerGID string, value CreditMetafield) error {
	if err := checkGID(customerGID, customerGIDPrefix); err != nil {
		return err
	}
	v, err := value.normalize()
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("shopify admin: encode credit metafield: %w", err)
	}
	vars := map[string]any{"metafields": []any{map[string]any{
		"ownerId":   customerGID,
		"namespace": MetafieldNamespace,
		"key":       MetafieldKey,
		"type":      "json",
		"value":     string(raw),
	}}}
	var out struct {
		MetafieldsSet struct {
			Metafields []struct {
				ID string `json:"id"`
			} `json:"metafields"`
		} `json:"metafieldsSet"`
	}
	if err := c.Do(ctx, MetafieldsSetMutation, vars, &out); err != nil {
		return err
	}
	if len(out.MetafieldsSet.Metafields) != 1 {
		return fmt.Errorf("shopify admin: metafieldsSet returned %d metafields, want 1", len(out.MetafieldsSet.Metafields))
	}
	return nil
}

// CombinesWith says which other discount classes a discount combines
// with.
type CombinesWith struct {
	ProductDiscounts  bool
	OrderDiscounts    bool
	ShippingDiscounts bool
}

func (cw CombinesWith) vars() map[string]any {
	return map[string]any{
		"productDiscounts":  cw.ProductDiscounts,
		"orderDiscounts":    cw.OrderDiscounts,
		"shippingDiscounts": cw.ShippingDiscounts,
	}
}

// VoucherCode describes a single-use fixed-amount discount code.
type VoucherCode struct {
	// Code is what the customer types (no whitespace, at most 255 chars).
	Code string
	// Title is shown to the merchant.
	Title string
	// CustomerGID binds the code to one customer
	// (gid://shopify/Customer/…). Empty makes it usable by anyone once
	// (a voucher handed to a guest).
	CustomerGID string
	// Amount off the order in Currency (the shop's currency).
	Amount   string
	Currency string
	StartsAt time.Time
	// EndsAt zero means no end date.
	EndsAt       time.Time
	CombinesWith CombinesWith
}

func (v VoucherCode) vars() (map[string]any, error) {
	code := strings.TrimSpace(v.Code)
	if code == "" || len(code) > maxCodeLength || strings.ContainsAny(code, " \t\r\n") {
		return nil, core.Errorf(core.EINVALID, "voucher code must be 1-%d characters without spaces", maxCodeLength)
	}
	cur, err := core.NormalizeCurrency(v.Currency)
	if err != nil {
		return nil, err
	}
	amt, err := core.ParseAmount(cur, v.Amount)
	if err != nil {
		return nil, err
	}
	if !amt.IsPositive() {
		return nil, core.Errorf(core.EINVALID, "voucher amount %s must be positive", v.Amount)
	}
	if v.StartsAt.IsZero() {
		return nil, core.Errorf(core.EINVALID, "voucher needs a start time")
	}
	if !v.EndsAt.IsZero() && !v.EndsAt.After(v.StartsAt) {
		return nil, core.Errorf(core.EINVALID, "voucher ends before it starts")
	}
	title := v.Title
	if title == "" {
		title = "Store credit " + code
	}
	sel := map[string]any{"all": "ALL"}
	if v.CustomerGID != "" {
		if err := checkGID(v.CustomerGID, customerGIDPrefix); err != nil {
			return nil, err
		}
		sel = map[string]any{"customers": map[string]any{"add": []any{v.CustomerGID}}}
	}
	d := map[string]any{
		"title":    title,
		"code":     code,
		"startsAt": v.StartsAt.UTC().Format(time.RFC3339),
		"context":  sel,
		"customerGets": map[string]any{
			"value": map[string]any{"discountAmount": map[string]any{
				"amount":            core.StringFixedFor(cur, amt),
				"appliesOnEachItem": false,
			}},
			"items": map[string]any{"all": true},
		},
		"usageLimit":             1,
		"appliesOncePerCustomer": true,
		"combinesWith":           v.CombinesWith.vars(),
	}
	if !v.EndsAt.IsZero() {
		d["endsAt"] = v.EndsAt.UTC().Format(time.RFC3339)
	}
	return map[string]any{"discount": d}, nil
}

// CreateVoucherCode creates a single-use discount code (usage limit 1,
// once per customer) for a fixed amount off the order and returns its
// DiscountCodeNode id. A code that already exists comes back as
// *UserErrors (core.EINVALID); use CodeUsage to check for an earlier
// attempt before retrying.
func (c *Client) CreateVoucherCode(ctx context.Context, v VoucherCode) (string, error) {
	vars, err := v.vars()
	if err != nil {
		return "", err
	}
	var out struct {
		Create struct {
			Node *struct {
				ID string `json:"id"`
			} `json:"codeDiscountNode"`
		} `json:"discountCodeBasicCreate"`
	}
	if err := c.Do(ctx, DiscountCodeBasicCreateMutation, vars, &out); err != nil {
		return "", err
	}
	if out.Create.Node == nil || out.Create.Node.ID == "" {
		return "", fmt.Errorf("shopify admin: discountCodeBasicCreate returned no discount")
	}
	return out.Create.Node.ID, nil
}

// DeactivateCode deactivates the discount code with the given
// DiscountCodeNode id (gid://shopify/DiscountCodeNode/…).
func (c *Client) DeactivateCode(ctx context.Context, gid string) error {
	if err := checkGID(gid, "gid://shopify/DiscountCodeNode/"); err != nil {
		return err
	}
	var out struct {
		Deactivate struct {
			Node *struct {
				ID string `json:"id"`
			} `json:"codeDiscountNode"`
		} `json:"discountCodeDeactivate"`
	}
	if err := c.Do(ctx, DiscountCodeDeactivateMutation, map[string]any{"id": gid}, &out); err != nil {
		return err
	}
	if out.Deactivate.Node == nil {
		return fmt.Errorf("shopify admin: discountCodeDeactivate returned no discount")
	}
	return nil
}

// CodeUsage returns how often code was used (Shopify updates the count
// asynchronously, so it may lag the order webhook) and its status
// (ACTIVE, EXPIRED, SCHEDULED). found is false when no discount has that
// code.
func (c *Client) CodeUsage(ctx context.Context, code string) (asyncUsageCount int, status string, found bool, err error) {
	if strings.TrimSpace(code) == "" {
		return 0, "", false, core.Errorf(core.EINVALID, "empty discount code")
	}
	var out struct {
		Node *struct {
			ID           string `json:"id"`
			CodeDiscount struct {
				Typename        string      `json:"__typename"`
				Status          string      `json:"status"`
				AsyncUsageCount json.Number `json:"asyncUsageCount"`
			} `json:"codeDiscount"`
		} `json:"codeDiscountNodeByCode"`
	}
	if err := c.Do(ctx, CodeDiscountNodeByCodeQuery, map[string]any{"code": code}, &out); err != nil {
		return 0, "", false, err
	}
	if out.Node == nil {
		return 0, "", false, nil
	}
	n := 0
	if s := out.Node.CodeDiscount.AsyncUsageCount; s != "" {
		v, err := s.Int64()
		if err != nil || v < 0 {
			return 0, "", true, fmt.Errorf("shopify admin: bad asyncUsageCount %q", s)
		}
		n = int(v)
	}
	return n, out.Node.CodeDiscount.Status, true, nil
}

// FunctionHandle is the handle of the creditbridge discount Function
// (the extension folder's name and its shopify.extension.toml handle).
const FunctionHandle = "creditbridge-discount"

// CreateAutomaticCreditDiscount creates the automatic discount that runs
// the creditbridge Function (by its handle) for every buyer and returns
// its id (gid://shopify/DiscountAutomaticNode/…). The Function reduces
// the order subtotal, so the discount's class is ORDER: without it in
// discountClasses a Discount Function API function is never asked for
// order discounts. It combines with every other discount class.
func (c *Client) CreateAutomaticCreditDiscount(ctx context.Context, functionHandle, title string) (string, error) {
	if strings.TrimSpace(functionHandle) == "" {
		functionHandle = FunctionHandle
	}
	if title == "" {
		title = "Store credit"
	}
	vars := map[string]any{"discount": map[string]any{
		"title":           title,
		"functionHandle":  functionHandle,
		"discountClasses": []any{"ORDER"},
		"context":         map[string]any{"all": "ALL"},
		"startsAt":        c.now().UTC().Format(time.RFC3339),
		"combinesWith":    CombinesWith{ProductDiscounts: true, OrderDiscounts: true, ShippingDiscounts: true}.vars(),
	}}
	var out struct {
		Create struct {
			Discount *struct {
				DiscountID string `json:"discountId"`
			} `json:"automaticAppDiscount"`
		} `json:"discountAutomaticAppCreate"`
	}
	if err := c.Do(ctx, DiscountAutomaticAppCreateMutation, vars, &out); err != nil {
		return "", err
	}
	if out.Create.Discount == nil || out.Create.Discount.DiscountID == "" {
		return "", fmt.Errorf("shopify admin: discountAutomaticAppCreate returned no discount")
	}
	return out.Create.Discount.DiscountID, nil
}

// ShopInfo is the result of Shop.
type ShopInfo struct {
	Name            string `json:"name"`
	CurrencyCode    string `json:"currencyCode"`
	MyshopifyDomain string `json:"myshopifyDomain"`
}

// Shop returns the shop's name, currency and permanent myshopify domain.
func (c *Client) Shop(ctx context.Context) (ShopInfo, error) {
	var out struct {
		Shop ShopInfo `json:"shop"`
	}
	if err := c.Do(ctx, ShopQuery, nil, &out); err != nil {
		return ShopInfo{}, err
	}
	return out.Shop, nil
}
