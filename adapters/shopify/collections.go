package shopify

import (
	"strings"

	"github.com/creditbridge/creditbridge/core"
)

// TopicCollectionsUpdate is sent when a collection changes, including
// products added to or removed from it by hand and changed conditions of
// an automated collection. Shopify does not send it when a product's own
// attributes change whether it matches an automated collection's
// conditions (WebhookSubscriptionTopic COLLECTIONS_UPDATE in the 2026-04
// Admin schema), so the periodic refresh (jobs.CollectionRefresh) stays
// necessary. Needs the read_products scope.
const TopicCollectionsUpdate = "collections/update"

// IsCollectionTopic reports whether a topic carries a collection body.
func IsCollectionTopic(topic string) bool { return topic == TopicCollectionsUpdate }

// ParseCollection returns the numeric id of the collection a
// collections/update body names (id, else admin_graphql_api_id). The body
// is only a hint: the members are read from the Admin API.
func ParseCollection(body []byte) (string, error) {
	var p struct {
		ID  jsonID   `json:"id"`
		GID jsonText `json:"admin_graphql_api_id"`
	}
	if err := decodeJSON("collection", body, &p); err != nil {
		return "", err
	}
	id := string(p.ID)
	if id == "" {
		id, _ = strings.CutPrefix(string(p.GID), "gid://shopify/Collection/")
	}
	if id == "" || strings.TrimLeft(id, "0123456789") != "" {
		return "", core.Errorf(core.EINVALID, "shopify collection payload: id is missing or not numeric")
	}
	return id, nil
}
