package shopifyfake

import "strconv"

// collectionPage is how many products the fake returns per page (Shopify
// allows up to 250; smaller here so tests see pagination).
const collectionPage = 2

type fakeCollection struct {
	title    string
	products []string // numeric ids
}

// SetCollection defines a collection and its products (numeric ids).
func (s *Server) SetCollection(id, title string, productIDs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.collections == nil {
		s.collections = map[string]*fakeCollection{}
	}
	s.collections["gid://shopify/Collection/"+id] = &fakeCollection{title: title, products: productIDs}
}

// collection answers collection(id) with one page of products after the
// cursor (the offset).
func (s *Server) collection(gid, after string) any {
	c := s.collections[gid]
	if c == nil {
		return nil
	}
	from := 0
	if after != "" {
		from, _ = strconv.Atoi(after)
	}
	to := min(from+collectionPage, len(c.products))
	nodes := []map[string]any{}
	for _, p := range c.products[from:to] {
		nodes = append(nodes, map[string]any{"__typename": "Product", "id": "gid://shopify/Product/" + p})
	}
	return map[string]any{"__typename": "Collection", "id": gid, "title": c.title, "products": map[string]any{
		"__typename": "ProductConnection", "nodes": nodes,
		"pageInfo": map[string]any{"__typename": "PageInfo", "hasNextPage": to < len(c.products), "endCursor": strconv.Itoa(to)}}}
}

// DeleteCollection removes a collection (collection(id) answers null).
func (s *Server) DeleteCollection(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.collections, "gid://shopify/Collection/"+id)
}
