package shopify

import (
	"context"
	"strings"

	"github.com/creditbridge/creditbridge/core"
)

// Customer is what customers/create and customers/update tell the bridge:
// a registered customer and whether Shopify verified their e-mail.
type Customer struct {
	ID            string
	Email         string
	VerifiedEmail bool
}

// IsCustomerTopic reports whether a topic carries a customer body.
func IsCustomerTopic(topic string) bool {
	return topic == TopicCustomersCreate || topic == TopicCustomersUpdate
}

// ParseCustomer parses a customers/create or customers/update body.
func ParseCustomer(body []byte) (Customer, error) {
	var p struct {
		ID            jsonID   `json:"id"`
		Email         jsonText `json:"email"`
		VerifiedEmail *bool    `json:"verified_email"`
	}
	if err := decodeJSON("customer", body, &p); err != nil {
		return Customer{}, err
	}
	if p.ID == "" {
		return Customer{}, core.Errorf(core.EINVALID, "shopify customer payload: id is missing")
	}
	return Customer{ID: string(p.ID), Email: strings.TrimSpace(string(p.Email)), VerifiedEmail: p.VerifiedEmail != nil && *p.VerifiedEmail}, nil
}

// claimGuest moves the guest credit of a customer's verified e-mail to the
// customer (customers/create and customers/update); it returns what it did.
func (p *Processor) claimGuest(ctx context.Context, shop core.Shop, body []byte) (string, error) {
	c, err := ParseCustomer(body)
	if err != nil {
		return "", err
	}
	switch {
	case p.ClaimGuest == nil:
		return "guest claims disabled", nil
	case !c.VerifiedEmail || c.Email == "":
		return "e-mail not verified: guest credit stays", nil
	}
	err = p.ClaimGuest(ctx, shop, c.Email, c.ID)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return "no guest credit for this e-mail", nil
	}
	if err != nil {
		return "", err
	}
	return "guest credit claimed", nil
}
