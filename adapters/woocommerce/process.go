package woocommerce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

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

// OrderSource fetches one order as a raw REST object (a 404 *APIError
// when the shop no longer has it). The REST client implements it; a
// RefundSource that does is used to confirm deletions.
type OrderSource interface {
	GetOrder(ctx context.Context, id string) (json.RawMessage, error)
}

// ShopAPI is what the processor reads from a shop's REST API (Client
// implements it): refunds of an order, and an order itself to confirm a
// deletion.
type ShopAPI interface {
	RefundSource
	OrderSource
}

// BodyKind is what a signed WooCommerce webhook body is, read from the
// body alone: the X-WC-Webhook-Topic header is not covered by the
// signature, so it never decides what a delivery does.
type BodyKind int

// Body kinds.
const (
	BodyUnknown  BodyKind = iota // neither shape (malformed, another resource)
	BodyOrder                    // a full order object: it carries a status
	BodyDeletion                 // only the order id: what order.deleted sends
)

// ClassifyBody tells an order snapshot from a deletion notice.
func ClassifyBody(body []byte) BodyKind {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return BodyUnknown
	}
	id, ok := m["id"]
	if !ok {
		return BodyUnknown
	}
	if st, ok := m["status"]; ok && string(st) != "null" && string(st) != `""` {
		return BodyOrder
	}
	if _, ok := m["line_items"]; ok {
		return BodyUnknown // an order object without a status
	}
	var n json.Number
	if json.Unmarshal(id, &n) != nil {
		return BodyUnknown
	}
	return BodyDeletion
}

// EffectiveTopic is the topic a delivery is stored and processed under:
// an order body is a snapshot (created, updated or restored as the header
// says; a forged order.deleted label becomes order.updated), an id-only
// body is a deletion notice whatever the header says. Other bodies keep
// the header's topic and fail as they would have.
func EffectiveTopic(header string, body []byte) string {
	switch ClassifyBody(body) {
	case BodyOrder:
		// The constants, never the header: a server's header string may
		// point into a buffer reused by the next request.
		for _, t := range []string{TopicOrderCreated, TopicOrderRestored} {
			if header == t {
				return t
			}
		}
		return TopicOrderUpdated
	case BodyDeletion:
		return TopicOrderDeleted
	}
	if header == "" {
		return "unknown"
	}
	return strings.Clone(header)
}

// Processor applies WooCommerce events to the ledger (core.EventHandler).
type Processor struct {
	Earner *core.Earner
	// Refunds returns a REST client for a shop, or an error when the shop
	// has no REST credentials.
	Refunds func(shop core.Shop) (ShopAPI, error)
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
	if !shop.Active {
		return core.Outcome{Status: core.InboxSkipped, Note: core.NoteShopInactive}, nil
	}
	switch ev.Topic {
	case TopicOrderCreated, TopicOrderUpdated, TopicOrderRestored, TopicPolled:
		return p.applyOrder(ctx, shop, ev.Payload, ev)
	case TopicOrderDeleted:
		if ClassifyBody(ev.Payload) == BodyOrder {
			// A full order stored under a forged (unsigned) deletion label:
			// it is a snapshot like any other.
			return p.applyOrder(ctx, shop, ev.Payload, ev)
		}
		var body struct {
			ID json.Number `json:"id"`
		}
		if err := json.Unmarshal(ev.Payload, &body); err != nil || body.ID == "" {
			return core.Outcome{}, core.Errorf(core.EINVALID, "order.deleted body has no order id")
		}
		if _, err := strconv.ParseInt(body.ID.String(), 10, 64); err != nil {
			return core.Outcome{}, core.Errorf(core.EINVALID, "order.deleted id %q is not an integer", body.ID.String())
		}
		return p.applyDeletion(ctx, shop, body.ID.String(), ev)
	}
	return core.Outcome{}, core.Errorf(core.EINVALID, "unknown WooCommerce topic %q", ev.Topic)
}

// applyDeletion reverses a deleted order's credit once the shop confirms
// the deletion: its REST API answers 404 for the order. When the shop
// still has the order (a replayed or relabelled notice, a trashed order),
// the order as the shop reports it is applied instead (trash cancels it).
// A shop without usable REST credentials cannot confirm; the signed
// id-only body, which only a deletion produces, is then trusted.
func (p *Processor) applyDeletion(ctx context.Context, shop core.Shop, orderID string, ev core.InboxEvent) (core.Outcome, error) {
	if p.Refunds != nil {
		if src, err := p.Refunds(shop); err == nil {
			raw, err := src.GetOrder(ctx, orderID)
			switch {
			case IsNotFound(err):
			case err != nil:
				return core.Outcome{}, fmt.Errorf("woocommerce: confirm deletion of order %s: %w", orderID, err)
			default:
				out, err := p.applyOrder(ctx, shop, raw, ev)
				if err == nil {
					out.Note = "deletion not confirmed by the shop; its current order applied: " + out.Note
				}
				return out, err
			}
		}
	}
	res, err := p.Earner.ApplyDeletion(ctx, shop, orderID, ev.ReceivedAt, &core.EventRef{ShopID: ev.ShopID, ID: ev.ID})
	if err != nil {
		return core.Outcome{}, err
	}
	return core.Outcome{Status: core.InboxProcessed, Note: "order deleted: credit reversed", Marked: res.Marked}, nil
}

// applyOrder applies the order in body; ev is the inbox event it came
// from, marked processed with the order's postings.
func (p *Processor) applyOrder(ctx context.Context, shop core.Shop, body []byte, ev core.InboxEvent) (core.Outcome, error) {
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
	res, err := p.Earner.ApplyOrder(ctx, shop, o, &core.EventRef{ShopID: ev.ShopID, ID: ev.ID})
	if err != nil {
		return core.Outcome{}, err
	}
	if res.Stale {
		return core.Outcome{Status: core.InboxSkipped, Note: "stale snapshot: refunds merged, state unchanged", Marked: res.Marked}, nil
	}
	return core.Outcome{Status: core.InboxProcessed, Note: fmt.Sprintf("%d posting(s)", len(res.Posted)+len(res.Redeemed)), Marked: res.Marked}, nil
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
