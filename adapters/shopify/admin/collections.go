package admin

import (
	"context"
	"fmt"
	"strings"

	"github.com/creditbridge/creditbridge/core"
)

// CollectionProductsQuery reads one page of a collection's products (ids
// only), for collection credit rules. Needs the read_products scope.
const CollectionProductsQuery = `query CreditbridgeCollectionProducts($id: ID!, $after: String) {
  collection(id: $id) {
    id
    title
    products(first: 250, after: $after) {
      nodes { id }
      pageInfo { hasNextPage endCursor }
    }
  }
}`

// Collection is a collection's title and the numeric ids of its products.
type Collection struct {
	ID         string // numeric id
	Title      string
	ProductIDs []string // numeric ids, as order line items carry them
}

// CollectionProducts reads every product of a collection (numeric id or
// gid), page by page, up to core.MaxCollectionProducts.
func (c *Client) CollectionProducts(ctx context.Context, collectionID string) (Collection, error) {
	gid := collectionID
	if !strings.HasPrefix(gid, "gid://") {
		gid = "gid://shopify/Collection/" + collectionID
	}
	if err := checkGID(gid, "gid://shopify/Collection/"); err != nil {
		return Collection{}, err
	}
	res := Collection{ID: strings.TrimPrefix(gid, "gid://shopify/Collection/"), ProductIDs: []string{}}
	var after any
	for {
		var out struct {
			Collection *struct {
				Title    string `json:"title"`
				Products struct {
					Nodes []struct {
						ID string `json:"id"`
					} `json:"nodes"`
					PageInfo struct {
						HasNextPage bool   `json:"hasNextPage"`
						EndCursor   string `json:"endCursor"`
					} `json:"pageInfo"`
				} `json:"products"`
			} `json:"collection"`
		}
		if err := c.Do(ctx, CollectionProductsQuery, map[string]any{"id": gid, "after": after}, &out); err != nil {
			return res, err
		}
		if out.Collection == nil {
			return res, core.Errorf(core.ENOTFOUND, "Shopify collection %s not found", res.ID)
		}
		res.Title = out.Collection.Title
		for _, n := range out.Collection.Products.Nodes {
			id, ok := strings.CutPrefix(n.ID, "gid://shopify/Product/")
			if !ok || id == "" {
				return res, fmt.Errorf("shopify admin: collection %s: unexpected product id %q", res.ID, n.ID)
			}
			res.ProductIDs = append(res.ProductIDs, id)
		}
		if len(res.ProductIDs) > core.MaxCollectionProducts {
			return res, core.Errorf(core.EINVALID, "collection %s has more than %d products", res.ID, core.MaxCollectionProducts)
		}
		pi := out.Collection.Products.PageInfo
		if !pi.HasNextPage || pi.EndCursor == "" {
			return res, nil
		}
		after = pi.EndCursor
	}
}
