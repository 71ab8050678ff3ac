package shopify_test

import (
	"testing"

	"github.com/creditbridge/creditbridge/adapters/shopify"
	"github.com/creditbridge/creditbridge/core"
)

// TestParseCollection: the collection id of a collections/update body
// (Shopify's docs example shape), from id or admin_graphql_api_id, and
// the body's shape checked against the topic.
func TestParseCollection(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":1063001322,"handle":"ipods","title":"IPods","updated_at":"2026-03-11T11:03:41-04:00","body_html":"<p>The best selling ipod ever</p>",` +
		`"published_at":"2008-02-01T19:00:00-05:00","sort_order":"manual","template_suffix":null,"published_scope":"web","admin_graphql_api_id":"gid://shopify/Collection/1063001322"}`)
	if id, err := shopify.ParseCollection(body); err != nil || id != "1063001322" {
		t.Fatalf("ParseCollection = %q, %v", id, err)
	}
	if id, err := shopify.ParseCollection([]byte(`{"admin_graphql_api_id":"gid://shopify/Collection/77","title":"X"}`)); err != nil || id != "77" {
		t.Fatalf("from the gid: %q, %v", id, err)
	}
	for _, bad := range []string{`{"title":"X"}`, `{"id":"abc"}`, `[]`, `{"admin_graphql_api_id":"gid://shopify/Product/1"}`} {
		if _, err := shopify.ParseCollection([]byte(bad)); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%s: %v, want EINVALID", bad, err)
		}
	}
	if !shopify.KnownTopic(shopify.TopicCollectionsUpdate) || !shopify.IsCollectionTopic(shopify.TopicCollectionsUpdate) {
		t.Error("collections/update is not a known topic")
	}
	if err := shopify.CheckOrigin(shopify.TopicCollectionsUpdate, "x.myshopify.com", body); err != nil {
		t.Errorf("a collection body refused: %v", err)
	}
	for _, other := range []string{`{"id":1,"line_items":[],"financial_status":"paid"}`, `{"id":1,"email":"a@b.c","first_name":"A"}`,
		`{"id":1,"title":"X","admin_graphql_api_id":"gid://shopify/Product/1"}`, `{"shop_id":1,"shop_domain":"x.myshopify.com"}`} {
		if err := shopify.CheckOrigin(shopify.TopicCollectionsUpdate, "x.myshopify.com", []byte(other)); core.ErrorCode(err) != core.EUNAUTHORIZED {
			t.Errorf("%s as collections/update: %v, want EUNAUTHORIZED", other, err)
		}
	}
}
