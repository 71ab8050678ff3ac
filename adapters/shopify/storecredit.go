package shopify

import (
	"context"
	"slices"

	"github.com/creditbridge/creditbridge/core"
)

// StoreCreditOrder names an order whose payload shows store credit: paid
// partly with it (payment_gateway_names lists shopify_store_credit) or
// refunded to it (a refund transaction with that gateway). The payloads
// carry no amounts for the payment itself (order bodies list gateway
// names only), so the amounts come from the order's transactions in the
// Admin API (admin.Client.OrderStoreCredit).
type StoreCreditOrder struct {
	OrderID     string
	OrderNumber string
}

// StoreCreditHandler books an order's store credit movements.
type StoreCreditHandler func(ctx context.Context, shop core.Shop, o StoreCreditOrder) error

type gatewayPayload struct {
	Gateway jsonText `json:"gateway"`
}

// StoreCreditIn reports whether a webhook body of topic shows store
// credit, and for which order. Bodies that do not parse report false
// (ParseOrder / ParseRefund report their errors).
func StoreCreditIn(topic string, body []byte) (StoreCreditOrder, bool) {
	isSC := func(g jsonText) bool { return string(g) == core.StoreCreditGateway }
	switch {
	case IsOrderTopic(topic):
		var p struct {
			ID       jsonID     `json:"id"`
			Name     jsonText   `json:"name"`
			Gateways []jsonText `json:"payment_gateway_names"`
			Refunds  []struct {
				Transactions []gatewayPayload `json:"transactions"`
			} `json:"refunds"`
		}
		if decodeJSON("order", body, &p) != nil || p.ID == "" {
			return StoreCreditOrder{}, false
		}
		found := slices.ContainsFunc(p.Gateways, isSC)
		for _, r := range p.Refunds {
			for _, t := range r.Transactions {
				found = found || isSC(t.Gateway)
			}
		}
		return StoreCreditOrder{OrderID: string(p.ID), OrderNumber: string(p.Name)}, found
	case topic == TopicRefundsCreate:
		var p struct {
			OrderID      jsonID           `json:"order_id"`
			Transactions []gatewayPayload `json:"transactions"`
		}
		if decodeJSON("refund", body, &p) != nil || p.OrderID == "" {
			return StoreCreditOrder{}, false
		}
		return StoreCreditOrder{OrderID: string(p.OrderID)}, slices.ContainsFunc(p.Transactions, func(t gatewayPayload) bool { return isSC(t.Gateway) })
	}
	return StoreCreditOrder{}, false
}
