package woocommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/creditbridge/creditbridge/core"
)

// Webhook topics (X-WC-Webhook-Topic) the bridge subscribes to.
const (
	TopicOrderCreated  = "order.created"
	TopicOrderUpdated  = "order.updated"
	TopicOrderDeleted  = "order.deleted"
	TopicOrderRestored = "order.restored"
	// TopicPolled marks orders fetched by the poller rather than pushed.
	TopicPolled = "order.polled"
)

// Topics lists every topic the adapter handles, e.g. for metric labels.
func Topics() []string {
	return []string{TopicOrderCreated, TopicOrderUpdated, TopicOrderDeleted, TopicOrderRestored, TopicPolled}
}

// RefundSource fetches an order's refunds with line detail.
type RefundSource interface {
	ListRefunds(ctx context.Context, orderID string) ([]core.Refund, error)
}

// Processor applies WooCommerce events to the ledger (core.EventHandler).
type Processor struct {
	Earner *core.Earner
	// Refunds returns a REST client for a shop, or an error when the shop
	// has no REST credentials.
	Refunds func(shop core.Shop) (RefundSource, error)
}

var _ core.EventHandler = (*Processor)(nil)

// Options returns the parse options for a shop.
func Options(shop core.Shop) ParseOptions {
	o := DefaultParseOptions()
	if len(shop.Settings.PaidStatuses) > 0 {
		o.PaidStatuses = shop.Settings.PaidStatuses
	}
	o.RedeemNet = shop.Settings.RedeemBase == core.RedeemNet
	return o
}

// Handle applies one stored event.
func (p *Processor) Handle(ctx context.Context, shop core.Shop, ev core.InboxEvent) (core.Outcome, error) {
	switch ev.Topic {
	case TopicOrderCreated, TopicOrderUpdated, TopicOrderRestored, TopicPolled:
		return p.applyOrder(ctx, shop, ev.Payload)
	case TopicOrderDeleted:
		var body struct {
			ID json.Number `json:"id"`
		}
		if err := json.Unmarshal(ev.Payload, &body); err != nil || body.ID == "" {
			return core.Outcome{}, core.Errorf(core.EINVALID, "order.deleted body has no order id")
		}
		if _, err := strconv.ParseInt(body.ID.String(), 10, 64); err != nil {
			return core.Outcome{}, core.Errorf(core.EINVALID, "order.deleted id %q is not an integer", body.ID.String())
		}
		if _, err := p.Earner.ApplyDeletion(ctx, shop, body.ID.String(), ev.ReceivedAt); err != nil {
			return core.Outcome{}, err
		}
		return core.Outcome{Status: core.InboxProcessed, Note: "order deleted: credit reversed"}, nil
	}
	return core.Outcome{}, core.Errorf(core.EINVALID, "unknown WooCommerce topic %q", ev.Topic)
}

func (p *Processor) applyOrder(ctx context.Context, shop core.Shop, body []byte) (core.Outcome, error) {
	o, err := ParseOrder(body, Options(shop))
	if errors.Is(err, ErrIgnoredStatus) {
		return core.Outcome{Status: core.InboxSkipped, Note: "status " + o.Status + " is ignored"}, nil
	}
	if err != nil {
		return core.Outcome{}, err
	}
	if err := p.completeRefunds(ctx, shop, &o); err != nil {
		return core.Outcome{}, err
	}
	res, err := p.Earner.ApplyOrder(ctx, shop, o)
	if err != nil {
		return core.Outcome{}, err
	}
	if res.Stale {
		return core.Outcome{Status: core.InboxSkipped, Note: "stale snapshot: refunds merged, state unchanged"}, nil
	}
	return core.Outcome{Status: core.InboxProcessed, Note: fmt.Sprintf("%d posting(s)", len(res.Posted)+len(res.Redeemed))}, nil
}

// completeRefunds replaces line-less refunds (the order payload only lists
// refund ids and totals) by their line detail from the REST API.
func (p *Processor) completeRefunds(ctx context.Context, shop core.Shop, o *core.Order) error {
	if o.FullyRefunded {
		return nil // everything is reversed anyway: no line detail needed
	}
	missing := false
	for _, r := range o.Refunds {
		if !r.LinesKnown {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	if p.Refunds == nil {
		return core.Errorf(core.EINVALID, "order %s has refunds but no REST client is configured to read their lines", o.OrderID)
	}
	src, err := p.Refunds(shop)
	if err != nil {
		return core.Errorf(core.EINVALID, "order %s has refunds but the shop has no usable REST credentials: %v", o.OrderID, err)
	}
	detail, err := src.ListRefunds(ctx, o.OrderID)
	if err != nil {
		return fmt.Errorf("woocommerce: refunds of order %s: %w", o.OrderID, err)
	}
	byID := map[string]core.Refund{}
	for _, r := range detail {
		for _, l := range r.Lines {
			if err := core.CheckScale(o.Currency, l.Amount); err != nil {
				return err
			}
		}
		byID[r.RefundID] = r
	}
	for i, r := range o.Refunds {
		if d, ok := byID[r.RefundID]; ok {
			o.Refunds[i] = d
		}
	}
	return nil
}
