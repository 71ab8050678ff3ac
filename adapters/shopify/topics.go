package shopify

// Webhook topics (the X-Shopify-Topic header) the bridge subscribes to.
const (
	TopicOrdersCreate         = "orders/create"
	TopicOrdersUpdated        = "orders/updated"
	TopicOrdersPaid           = "orders/paid"
	TopicOrdersCancelled      = "orders/cancelled"
	TopicRefundsCreate        = "refunds/create"
	TopicAppUninstalled       = "app/uninstalled"
	TopicCustomersDataRequest = "customers/data_request"
	TopicCustomersRedact      = "customers/redact"
	TopicShopRedact           = "shop/redact"
	TopicCheckoutsCreate      = "checkouts/create"
	TopicCheckoutsUpdate      = "checkouts/update"
	TopicCustomersUpdate      = "customers/update" // TopicCustomersCreate: customer.go
)

// IsOrderTopic reports whether a topic carries a full order body, to be
// parsed with ParseOrder.
func IsOrderTopic(topic string) bool {
	switch topic {
	case TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersPaid, TopicOrdersCancelled:
		return true
	}
	return false
}

// IsComplianceTopic reports whether a topic is one of the mandatory GDPR
// topics (a bad signature on them must answer 401).
func IsComplianceTopic(topic string) bool {
	switch topic {
	case TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact:
		return true
	}
	return false
}

// IsCheckoutTopic reports whether a topic carries a checkout body, to be
// parsed with ParseCheckout.
func IsCheckoutTopic(topic string) bool {
	return topic == TopicCheckoutsCreate || topic == TopicCheckoutsUpdate
}

// KnownTopic reports whether the adapter handles a topic at all; a
// delivery with any other topic is acknowledged and ignored.
func KnownTopic(topic string) bool {
	return IsOrderTopic(topic) || IsComplianceTopic(topic) || IsCheckoutTopic(topic) || IsCustomerTopic(topic) ||
		IsCollectionTopic(topic) || topic == TopicRefundsCreate || topic == TopicAppUninstalled
}

// Topics lists every topic the adapter handles (KnownTopic), e.g. for
// metric labels.
func Topics() []string {
	return []string{TopicOrdersCreate, TopicOrdersUpdated, TopicOrdersPaid, TopicOrdersCancelled, TopicRefundsCreate,
		TopicAppUninstalled, TopicCustomersDataRequest, TopicCustomersRedact, TopicShopRedact, TopicCheckoutsCreate, TopicCheckoutsUpdate,
		TopicCustomersCreate, TopicCustomersUpdate, TopicCollectionsUpdate}
}
