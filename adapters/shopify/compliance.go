package shopify

import (
	"strings"

	"github.com/creditbridge/creditbridge/core"
)

// CustomerRedact is a customers/redact request: anonymize this customer's
// identity in the shop's books (the books themselves stay balanced).
type CustomerRedact struct {
	ShopID         string
	ShopDomain     string
	CustomerID     string // empty when Shopify sent none
	Email          string // normalized; empty when Shopify sent none
	OrdersToRedact []string
}

// DataRequest is a customers/data_request: send the merchant the data
// held about this customer.
type DataRequest struct {
	ShopID          string
	ShopDomain      string
	CustomerID      string
	Email           string // normalized
	OrdersRequested []string
	DataRequestID   string
}

// ShopRedact is a shop/redact request, sent 48 hours after uninstall:
// delete the shop's data.
type ShopRedact struct {
	ShopID     string
	ShopDomain string
}

// AppUninstalled is the app/uninstalled body (a Shop object). Domain and
// MyshopifyDomain may be null in the body; the authoritative shop is the
// X-Shopify-Shop-Domain header, which the handler should prefer.
type AppUninstalled struct {
	ShopID          string
	Name            string
	Domain          string
	MyshopifyDomain string
}

type complianceCustomer struct {
	ID    jsonID   `json:"id"`
	Email jsonText `json:"email"`
}

type compliancePayload struct {
	ShopID          jsonID              `json:"shop_id"`
	ShopDomain      jsonText            `json:"shop_domain"`
	Customer        *complianceCustomer `json:"customer"`
	OrdersToRedact  []jsonID            `json:"orders_to_redact"`
	OrdersRequested []jsonID            `json:"orders_requested"`
	DataRequest     *struct {
		ID jsonID `json:"id"`
	} `json:"data_request"`
}

func decodeCompliance(kind string, body []byte) (compliancePayload, error) {
	var p compliancePayload
	if err := decodeJSON(kind, body, &p); err != nil {
		return p, err
	}
	p.ShopDomain = jsonText(strings.ToLower(strings.TrimSpace(string(p.ShopDomain))))
	if p.ShopDomain == "" {
		return p, core.Errorf(core.EINVALID, "shopify %s payload: shop_domain is missing", kind)
	}
	return p, nil
}

// ParseCustomerRedact parses a customers/redact body. It requires the shop
// domain and at least one of the customer id and e-mail.
func ParseCustomerRedact(body []byte) (CustomerRedact, error) {
	p, err := decodeCompliance("customers/redact", body)
	if err != nil {
		return CustomerRedact{}, err
	}
	r := CustomerRedact{ShopID: string(p.ShopID), ShopDomain: string(p.ShopDomain), OrdersToRedact: ids(p.OrdersToRedact)}
	if p.Customer != nil {
		r.CustomerID = string(p.Customer.ID)
		r.Email = core.NormalizeEmail(string(p.Customer.Email))
	}
	if r.CustomerID == "" && r.Email == "" {
		return CustomerRedact{}, core.Errorf(core.EINVALID, "shopify customers/redact payload: customer id and email are both missing")
	}
	return r, nil
}

// ParseDataRequest parses a customers/data_request body. It requires the
// shop domain and at least one of the customer id and e-mail.
func ParseDataRequest(body []byte) (DataRequest, error) {
	p, err := decodeCompliance("customers/data_request", body)
	if err != nil {
		return DataRequest{}, err
	}
	r := DataRequest{ShopID: string(p.ShopID), ShopDomain: string(p.ShopDomain), OrdersRequested: ids(p.OrdersRequested)}
	if p.Customer != nil {
		r.CustomerID = string(p.Customer.ID)
		r.Email = core.NormalizeEmail(string(p.Customer.Email))
	}
	if p.DataRequest != nil {
		r.DataRequestID = string(p.DataRequest.ID)
	}
	if r.CustomerID == "" && r.Email == "" {
		return DataRequest{}, core.Errorf(core.EINVALID, "shopify customers/data_request payload: customer id and email are both missing")
	}
	return r, nil
}

// ParseShopRedact parses a shop/redact body.
func ParseShopRedact(body []byte) (ShopRedact, error) {
	p, err := decodeCompliance("shop/redact", body)
	if err != nil {
		return ShopRedact{}, err
	}
	return ShopRedact{ShopID: string(p.ShopID), ShopDomain: string(p.ShopDomain)}, nil
}

// ParseAppUninstalled parses an app/uninstalled body. It requires the shop
// id; the domains may be empty (see AppUninstalled).
func ParseAppUninstalled(body []byte) (AppUninstalled, error) {
	var p struct {
		ID              jsonID   `json:"id"`
		Name            jsonText `json:"name"`
		Domain          jsonText `json:"domain"`
		MyshopifyDomain jsonText `json:"myshopify_domain"`
	}
	if err := decodeJSON("app/uninstalled", body, &p); err != nil {
		return AppUninstalled{}, err
	}
	if p.ID == "" {
		return AppUninstalled{}, core.Errorf(core.EINVALID, "shopify app/uninstalled payload: id is missing")
	}
	return AppUninstalled{
		ShopID:          string(p.ID),
		Name:            string(p.Name),
		Domain:          strings.ToLower(strings.TrimSpace(string(p.Domain))),
		MyshopifyDomain: strings.ToLower(strings.TrimSpace(string(p.MyshopifyDomain))),
	}, nil
}

func ids(in []jsonID) []string {
	out := make([]string, 0, len(in))
	for _, id := range in {
		if id != "" {
			out = append(out, string(id))
		}
	}
	return out
}
