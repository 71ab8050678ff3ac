package shopify

import (
	"strings"

	"github.com/creditbridge/creditbridge/core"
)

// TopicCustomersCreate: a customer account was created (an activity
// reward "account_created" when the shop configures one, and the
// customer's marketing consent for reminders).
const TopicCustomersCreate = "customers/create"

// CustomerCreated is the part of a customers/create body the bridge uses.
type CustomerCreated struct {
	CustomerID string
	Email      string
	// Consent is the customer's e-mail marketing consent when Shopify
	// reports it (email_marketing_consent.state "subscribed" = true, any
	// other state = false), nil when the body says nothing.
	Consent *bool
}

// ParseCustomerCreated decodes a customers/create body.
func ParseCustomerCreated(body []byte) (CustomerCreated, error) {
	var p struct {
		ID      jsonID   `json:"id"`
		Email   jsonText `json:"email"`
		Consent *struct {
			State jsonText `json:"state"`
		} `json:"email_marketing_consent"`
	}
	if err := decodeJSON(TopicCustomersCreate, body, &p); err != nil {
		return CustomerCreated{}, err
	}
	if p.ID == "" {
		return CustomerCreated{}, core.Errorf(core.EINVALID, "shopify customers/create payload: id is missing")
	}
	out := CustomerCreated{CustomerID: string(p.ID), Email: strings.TrimSpace(string(p.Email))}
	if p.Consent != nil && p.Consent.State != "" {
		yes := strings.EqualFold(string(p.Consent.State), "subscribed")
		out.Consent = &yes
	}
	return out, nil
}

// ParseCustomerAddresses returns the normalized addresses of a
// customers/create or customers/update body (default_address and
// addresses[]), for the household self-referral check.
func ParseCustomerAddresses(body []byte) ([]string, error) {
	var p struct {
		DefaultAddress *addressPayload  `json:"default_address"`
		Addresses      []addressPayload `json:"addresses"`
	}
	if err := decodeJSON("customer", body, &p); err != nil {
		return nil, err
	}
	out := p.DefaultAddress.add(nil)
	for i := range p.Addresses {
		out = p.Addresses[i].add(out)
	}
	return out, nil
}
