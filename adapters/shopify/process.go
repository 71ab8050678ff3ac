package shopify

import (
	"context"
	"fmt"

	"github.com/creditbridge/creditbridge/core"
)

// Header names of webhook deliveries.
const (
	HeaderTopic      = "X-Shopify-Topic"
	HeaderShopDomain = "X-Shopify-Shop-Domain"
	HeaderEventID    = "X-Shopify-Event-Id"
	HeaderWebhookID  = "X-Shopify-Webhook-Id"
)

// CheckoutHandler places or refreshes the credit hold of a checkout
// (redeem path); nil disables hold placement from checkout webhooks.
type CheckoutHandler func(ctx context.Context, shop core.Shop, c Checkout) error

// HoldCheckouts returns the CheckoutHandler that places (or refreshes)
// the credit hold of a logged-in customer's checkout, keyed by the
// checkout token that the paid order carries, so the order webhook can
// capture exactly what the checkout reserved. Guest checkouts hold
// nothing; a customer without credit gets no hold.
func HoldCheckouts(r *core.Redeemer) CheckoutHandler {
	return func(ctx context.Context, shop core.Shop, c Checkout) error {
		// Only the discount Function applies credit a checkout can hold;
		// store credit and voucher codes are paid or entered by the buyer.
		if c.CustomerID == "" || c.Token == "" || shop.Settings.Mode() != core.RedemptionFunction {
			return nil
		}
		_, err := r.Quote(ctx, shop, core.QuoteRequest{Owner: core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(c.CustomerID)},
			Currency: c.Currency, Subtotal: c.SubtotalPrice.Add(c.CreditApplied), CartKey: c.Token})
		if core.ErrorCode(err) == core.EINSUFFICIENT {
			return nil
		}
		return err
	}
}

// Processor applies Shopify events to the ledger (core.EventHandler).
type Processor struct {
	Earner     *core.Earner
	Compliance core.Compliance
	OnCheckout CheckoutHandler
	// OnStoreCredit books an order's store credit payments and refunds
	// (shops in redemption mode store_credit); nil disables it.
	OnStoreCredit StoreCreditHandler
	// Installed asks Shopify whether the app is still installed on the
	// shop (an Admin API call with the shop's token). app/uninstalled and
	// shop/redact act only when it answers false: their headers are not
	// signed, so a replayed body must not deactivate or delete a shop that
	// still has the app. verified is false when the shop has no token to
	// ask with. nil skips the check (tests of other topics).
	Installed func(ctx context.Context, shop core.Shop) (installed, verified bool, err error)
	// ClaimGuest moves the credit of a guest e-mail's orders to the
	// registered customer platformID (customers/create and
	// customers/update with a verified e-mail); nil ignores those topics.
	ClaimGuest func(ctx context.Context, shop core.Shop, email, platformID string) error
	// Customers records a new customer and their marketing consent
	// (customers/create); nil skips it.
	Customers CustomerRegistrar
	// Activities pays the "account_created" activity reward on
	// customers/create (when the shop configures it); nil skips it.
	Activities *core.Activities
	// Households keeps a customer record's addresses for the household
	// self-referral check (customers/create and customers/update, in
	// shops with the check on); nil skips it.
	Households HouseholdRecorder
	// OnCollection reads the members of the shop's collection rules for a
	// collection again from the Admin API (collections/update); nil
	// ignores the topic. Rates are frozen per order line, so new members
	// change only orders that earn after the refresh.
	OnCollection func(ctx context.Context, shop core.Shop, collectionID string) error
}

// HouseholdRecorder keeps the addresses of a customer record
// (postgres.Directory).
type HouseholdRecorder interface {
	RecordCustomerAddresses(ctx context.Context, shop core.Shop, platformID string, addresses []string) error
}

// CustomerRegistrar records customers (postgres.Directory).
type CustomerRegistrar interface {
	RegisterCustomer(ctx context.Context, shop core.Shop, c core.CustomerRef, consent *bool, locale string) (core.Owner, error)
}

var _ core.EventHandler = (*Processor)(nil)

// Options returns the parse options for a shop.
func Options(shop core.Shop) ParseOptions {
	o := DefaultParseOptions()
	o.CreditDiscountTitles = shop.RecognisedLabels()
	if len(shop.Settings.PaidStatuses) > 0 {
		o.PaidStatuses = shop.Settings.PaidStatuses
	}
	return o
}

// Handle applies one stored event.
func (p *Processor) Handle(ctx context.Context, shop core.Shop, ev core.InboxEvent) (core.Outcome, error) {
	// An order body's origin is checked by the decode that parses it; its
	// verdict comes first, as CheckOrigin's does for the other topics.
	var o core.Order
	var perr error
	switch {
	case IsOrderTopic(ev.Topic):
		o, perr = ParseOrderDelivery(ev.Topic, shop.Domain, ev.Payload, Options(shop))
		if core.ErrorCode(perr) == core.EUNAUTHORIZED {
			return core.Outcome{}, perr
		}
	case KnownTopic(ev.Topic):
		if err := CheckOrigin(ev.Topic, shop.Domain, ev.Payload); err != nil {
			return core.Outcome{}, err
		}
	}
	if !shop.Active && (IsOrderTopic(ev.Topic) || ev.Topic == TopicRefundsCreate || IsCheckoutTopic(ev.Topic) || IsCollectionTopic(ev.Topic)) {
		// Uninstalled: nothing is credited, reversed or held any more;
		// compliance topics below still run.
		return core.Outcome{Status: core.InboxSkipped, Note: core.NoteShopInactive}, nil
	}
	switch {
	case IsOrderTopic(ev.Topic):
		if perr != nil {
			return core.Outcome{}, perr
		}
		scOrder, sc := p.storeCreditIn(shop, ev)
		res, err := p.Earner.ApplyOrder(ctx, shop, o, p.markWithOrder(sc, ev))
		if err != nil {
			return core.Outcome{}, err
		}
		if err := p.bookStoreCredit(ctx, shop, scOrder, sc); err != nil {
			return core.Outcome{}, err
		}
		if res.Stale && !sc {
			return core.Outcome{Status: core.InboxSkipped, Note: "stale snapshot: refunds merged, state unchanged", Marked: res.Marked}, nil
		}
		return core.Outcome{Status: core.InboxProcessed, Note: fmt.Sprintf("%d posting(s)", len(res.Posted)+len(res.Redeemed)), Marked: res.Marked}, nil
	case ev.Topic == TopicRefundsCreate:
		orderID, r, err := ParseRefund(ev.Payload)
		if err != nil {
			return core.Outcome{}, err
		}
		scOrder, sc := p.storeCreditIn(shop, ev)
		res, err := p.Earner.ApplyRefund(ctx, shop, orderID, r, p.markWithOrder(sc, ev))
		if err != nil {
			return core.Outcome{}, err
		}
		if err := p.bookStoreCredit(ctx, shop, scOrder, sc); err != nil {
			return core.Outcome{}, err
		}
		return core.Outcome{Status: core.InboxProcessed, Note: fmt.Sprintf("refund %s: %d posting(s)", r.RefundID, len(res.Posted)), Marked: res.Marked}, nil
	case IsCheckoutTopic(ev.Topic):
		if p.OnCheckout == nil {
			return core.Outcome{Status: core.InboxSkipped, Note: "checkout holds disabled"}, nil
		}
		c, err := ParseCheckoutWith(ev.Payload, Options(shop))
		if err != nil {
			return core.Outcome{}, err
		}
		return core.Outcome{Status: core.InboxProcessed, Note: "checkout hold refreshed"}, p.OnCheckout(ctx, shop, c)
	case IsCustomerTopic(ev.Topic):
		note := ""
		if ev.Topic == TopicCustomersCreate {
			c, err := ParseCustomerCreated(ev.Payload)
			if err != nil {
				return core.Outcome{}, err
			}
			owner := core.Owner{Kind: core.OwnerCustomer, ID: core.CustomerOwnerID(c.CustomerID)}
			if p.Customers != nil {
				if owner, err = p.Customers.RegisterCustomer(ctx, shop, core.CustomerRef{PlatformID: c.CustomerID, Email: c.Email}, c.Consent, ""); err != nil {
					return core.Outcome{}, err
				}
			}
			note = "customer recorded"
			if p.Activities != nil {
				a, err := p.Activities.Record(ctx, shop, core.ActivityRequest{Kind: "account_created", Owner: owner, Key: "shopify-customer-" + c.CustomerID})
				if err != nil {
					return core.Outcome{}, err
				}
				note = "account_created " + string(a.Status)
			}
		}
		if p.Households != nil && shop.Settings.Referral.HouseholdCheck {
			c, err := ParseCustomer(ev.Payload)
			if err != nil {
				return core.Outcome{}, err
			}
			addrs, err := ParseCustomerAddresses(ev.Payload)
			if err != nil {
				return core.Outcome{}, err
			}
			if err := p.Households.RecordCustomerAddresses(ctx, shop, c.ID, addrs); err != nil {
				return core.Outcome{}, err
			}
		}
		claimed, err := p.claimGuest(ctx, shop, ev.Payload)
		if err != nil {
			return core.Outcome{}, err
		}
		if note == "" {
			note = claimed
		} else {
			note += "; " + claimed
		}
		return core.Outcome{Status: core.InboxProcessed, Note: note}, nil
	case IsCollectionTopic(ev.Topic):
		id, err := ParseCollection(ev.Payload)
		if err != nil {
			return core.Outcome{}, err
		}
		if p.OnCollection == nil {
			return core.Outcome{Status: core.InboxSkipped, Note: "collection refresh disabled"}, nil
		}
		if err := p.OnCollection(ctx, shop, id); err != nil {
			return core.Outcome{}, err
		}
		return core.Outcome{Status: core.InboxProcessed, Note: "collection " + id + " read again"}, nil
	case ev.Topic == TopicAppUninstalled:
		if still, note, err := p.stillInstalled(ctx, shop); err != nil || still {
			return core.Outcome{Status: core.InboxSkipped, Note: note}, err
		}
		return core.Outcome{Status: core.InboxProcessed, Note: "shop deactivated"}, p.Compliance.Deactivate(ctx, shop)
	case ev.Topic == TopicCustomersDataRequest:
		r, err := ParseDataRequest(ev.Payload)
		if err != nil {
			return core.Outcome{}, err
		}
		return core.Outcome{Status: core.InboxProcessed, Note: "data request " + r.DataRequestID + " recorded"},
			p.Compliance.DataRequest(ctx, shop, core.CustomerRef{PlatformID: r.CustomerID, Email: r.Email}, r.DataRequestID)
	case ev.Topic == TopicCustomersRedact:
		r, err := ParseCustomerRedact(ev.Payload)
		if err != nil {
			return core.Outcome{}, err
		}
		return core.Outcome{Status: core.InboxProcessed, Note: "customer redacted"}, p.Compliance.RedactCustomer(ctx, shop, core.CustomerRef{PlatformID: r.CustomerID, Email: r.Email})
	case ev.Topic == TopicShopRedact:
		if _, err := ParseShopRedact(ev.Payload); err != nil {
			return core.Outcome{}, err
		}
		// Shopify sends shop/redact 48 hours after the app was
		// uninstalled: a shop that is still active (no verified
		// app/uninstalled seen) is asked first.
		if shop.Active {
			if still, note, err := p.stillInstalled(ctx, shop); err != nil || still {
				return core.Outcome{Status: core.InboxSkipped, Note: note}, err
			}
		}
		return core.Outcome{Status: core.InboxProcessed, Note: "shop data deleted"}, p.Compliance.PurgeShop(ctx, shop)
	}
	return core.Outcome{}, core.Errorf(core.EINVALID, "unknown Shopify topic %q", ev.Topic)
}

// markWithOrder is the event the order's transaction marks processed. When
// store credit is still to be booked after that transaction (sc), it is
// none: the dispatcher marks the event only once the store credit booking
// succeeded too, so a failing Admin API call leaves the event to be
// retried instead of marked done with its store credit unbooked.
func (p *Processor) markWithOrder(sc bool, ev core.InboxEvent) *core.EventRef {
	if sc {
		return nil
	}
	return &core.EventRef{ShopID: ev.ShopID, ID: ev.ID}
}

// storeCreditIn reports whether the event's body shows store credit to
// book (the shop mirrors store credit and the payload shows some), and
// for which order. The body is read for it only in store credit mode, and
// once per event.
func (p *Processor) storeCreditIn(shop core.Shop, ev core.InboxEvent) (StoreCreditOrder, bool) {
	if p.OnStoreCredit == nil || shop.Settings.Mode() != core.RedemptionStoreCredit {
		return StoreCreditOrder{}, false
	}
	return StoreCreditIn(ev.Topic, ev.Payload)
}

// bookStoreCredit books the store credit an order moved when sc (see
// storeCreditIn). A failure (the Admin API unreachable) fails the event,
// which is retried: booking converges, so the retry posts nothing twice.
func (p *Processor) bookStoreCredit(ctx context.Context, shop core.Shop, o StoreCreditOrder, sc bool) error {
	if !sc {
		return nil
	}
	return p.OnStoreCredit(ctx, shop, o)
}

// stillInstalled asks Shopify whether the app is still installed. A shop
// without a token to ask with cannot be verified: the signed body's checks
// (CheckOrigin) are then all there is.
func (p *Processor) stillInstalled(ctx context.Context, shop core.Shop) (bool, string, error) {
	if p.Installed == nil {
		return false, "", nil
	}
	installed, verified, err := p.Installed(ctx, shop)
	if err != nil {
		return false, "", fmt.Errorf("shopify: ask whether the app is still installed: %w", err)
	}
	if verified && installed {
		return true, "ignored: Shopify still answers the shop's access token, so the app is installed (a replayed or misdirected delivery)", nil
	}
	return false, "", nil
}
