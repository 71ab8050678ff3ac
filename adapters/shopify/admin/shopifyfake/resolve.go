package shopifyfake

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// resolveRoot answers one root field. Callers hold s.mu. Arguments are
// already coerced and validated against the schema.
func (s *Server) resolveRoot(name string, args map[string]any) any {
	switch name {
	case "shop":
		return map[string]any{
			"__typename":      "Shop",
			"id":              "gid://shopify/Shop/1",
			"name":            s.opts.ShopName,
			"currencyCode":    s.opts.Currency,
			"myshopifyDomain": s.opts.ShopDomain,
		}
	case "metafieldsSet":
		return s.metafieldsSet(args)
	case "discountCodeBasicCreate":
		return s.discountCodeBasicCreate(obj(args["basicCodeDiscount"]))
	case "discountCodeDeactivate":
		return s.discountCodeDeactivate(str(args["id"]))
	case "codeDiscountNodeByCode":
		c, ok := s.codes[strings.ToUpper(str(args["code"]))]
		if !ok {
			return nil
		}
		return codeNode(c)
	case "discountAutomaticAppCreate":
		return s.discountAutomaticAppCreate(obj(args["automaticAppDiscount"]))
	case "shopifyFunctions":
		return s.shopifyFunctions(args)
	case "customer":
		return s.customer(str(args["id"]))
	case "storeCreditAccountCredit":
		return s.storeCreditAccountCredit(str(args["id"]), obj(args["creditInput"]))
	case "storeCreditAccountDebit":
		return s.storeCreditAccountDebit(str(args["id"]), obj(args["debitInput"]))
	case "order":
		return s.order(str(args["id"]))
	case "collection":
		return s.collection(str(args["id"]), str(args["_after"]))
	}
	s.tb.Errorf("shopifyfake: root field %s is valid but not implemented by the fake", name)
	return nil
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func boolean(v any) bool {
	b, _ := v.(bool)
	return b
}

func integer(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func discountUserError(code, msg string, field ...string) map[string]any {
	return map[string]any{"__typename": "DiscountUserError", "code": code, "message": msg, "field": field, "extraInfo": nil}
}

func (s *Server) metafieldsSet(args map[string]any) any {
	in := list(args["metafields"])
	var errs, out []map[string]any
	uerr := func(i int, code, msg string, field string) {
		errs = append(errs, map[string]any{
			"__typename": "MetafieldsSetUserError", "code": code, "message": msg,
			"field": []string{"metafields", strconv.Itoa(i), field}, "elementIndex": i,
		})
	}
	if len(in) == 0 || len(in) > 25 {
		uerr(0, "LESS_THAN_OR_EQUAL_TO", "between 1 and 25 metafields can be set at once", "metafields")
	}
	for i, raw := range in {
		m := obj(raw)
		owner, ns, key, typ, value := str(m["ownerId"]), str(m["namespace"]), str(m["key"]), str(m["type"]), str(m["value"])
		switch {
		case !strings.HasPrefix(owner, "gid://shopify/Customer/"):
			uerr(i, "INVALID", "Owner does not exist.", "ownerId")
		case ns == "" || len(key) < 2:
			uerr(i, "INVALID", "Namespace and key are required (key at least 2 characters).", "key")
		case typ == "":
			uerr(i, "BLANK", "Type can't be blank.", "type")
		case typ == "json" && !json.Valid([]byte(value)):
			uerr(i, "INVALID_VALUE", "Value is invalid JSON.", "value")
		}
	}
	if len(errs) > 0 {
		return map[string]any{"__typename": "MetafieldsSetPayload", "metafields": []map[string]any{}, "userErrors": errs}
	}
	for _, raw := range in {
		m := obj(raw)
		owner, ns, key := str(m["ownerId"]), str(m["namespace"]), str(m["key"])
		if s.metafields[owner] == nil {
			s.metafields[owner] = map[string]string{}
		}
		s.metafields[owner][ns+"."+key] = str(m["value"])
		// Shopify resolves $app to the app's reserved namespace.
		resolved := strings.Replace(ns, "$app:", "app--1234--", 1)
		out = append(out, map[string]any{
			"__typename": "Metafield", "id": s.newID("Metafield"), "namespace": resolved, "key": key,
			"type": str(m["type"]), "value": str(m["value"]),
		})
	}
	return map[string]any{"__typename": "MetafieldsSetPayload", "metafields": out, "userErrors": []map[string]any{}}
}

func (s *Server) discountCodeBasicCreate(in map[string]any) any {
	payload := func(node any, errs ...map[string]any) map[string]any {
		if errs == nil {
			errs = []map[string]any{}
		}
		return map[string]any{"__typename": "DiscountCodeBasicCreatePayload", "codeDiscountNode": node, "userErrors": errs}
	}
	code := str(in["code"])
	if code == "" {
		return payload(nil, discountUserError("BLANK", "Code can't be blank", "basicCodeDiscount", "code"))
	}
	if _, dup := s.codes[strings.ToUpper(code)]; dup {
		return payload(nil, discountUserError("TAKEN", "Code must be unique. Please try a different code.", "basicCodeDiscount", "code"))
	}
	title := str(in["title"])
	if title == "" {
		return payload(nil, discountUserError("BLANK", "Title can't be blank", "basicCodeDiscount", "title"))
	}
	startsAt := str(in["startsAt"])
	if _, err := time.Parse(time.RFC3339, startsAt); err != nil {
		return payload(nil, discountUserError("INVALID", "Starts at is invalid", "basicCodeDiscount", "startsAt"))
	}
	c := &Code{ID: s.newID("DiscountCodeNode"), Code: code, Title: title, StartsAt: startsAt, EndsAt: str(in["endsAt"]), Status: "ACTIVE"}
	sel := obj(in["context"])
	if str(sel["all"]) == "ALL" {
		c.AllCustomers = true
	}
	for _, id := range list(obj(sel["customers"])["add"]) {
		c.CustomerGIDs = append(c.CustomerGIDs, str(id))
	}
	if !c.AllCustomers && len(c.CustomerGIDs) == 0 {
		return payload(nil, discountUserError("INVALID", "Context is required", "basicCodeDiscount", "context"))
	}
	gets := obj(in["customerGets"])
	da := obj(obj(gets["value"])["discountAmount"])
	amount, err := decimal.NewFromString(str(da["amount"]))
	if da == nil || err != nil || !amount.IsPositive() {
		return payload(nil, discountUserError("GREATER_THAN", "Value must be greater than 0", "basicCodeDiscount", "customerGets", "value", "discountAmount", "amount"))
	}
	c.Amount = str(da["amount"])
	c.AppliesOnEachItem = boolean(da["appliesOnEachItem"])
	c.AllItems = boolean(obj(gets["items"])["all"])
	if !c.AllItems {
		return payload(nil, discountUserError("BLANK", "Items to which the discount applies are required", "basicCodeDiscount", "customerGets", "items"))
	}
	if n, ok := integer(in["usageLimit"]); ok {
		c.UsageLimit = n
	}
	c.AppliesOncePerCustomer = boolean(in["appliesOncePerCustomer"])
	c.CombinesWith = obj(in["combinesWith"])
	s.codes[strings.ToUpper(code)] = c
	return payload(map[string]any{"__typename": "DiscountCodeNode", "id": c.ID, "codeDiscount": codeDiscount(c)})
}

func codeDiscount(c *Code) map[string]any {
	var limit any
	if c.UsageLimit > 0 {
		limit = c.UsageLimit
	}
	var ends any
	if c.EndsAt != "" {
		ends = c.EndsAt
	}
	return map[string]any{
		"__typename":             "DiscountCodeBasic",
		"title":                  c.Title,
		"status":                 c.Status,
		"asyncUsageCount":        c.UsageCount,
		"usageLimit":             limit,
		"appliesOncePerCustomer": c.AppliesOncePerCustomer,
		"startsAt":               c.StartsAt,
		"endsAt":                 ends,
	}
}

func codeNode(c *Code) map[string]any {
	return map[string]any{"__typename": "DiscountCodeNode", "id": c.ID, "codeDiscount": codeDiscount(c)}
}

func (s *Server) discountCodeDeactivate(id string) any {
	for _, c := range s.codes {
		if c.ID == id {
			c.Status = "EXPIRED"
			c.EndsAt = time.Now().UTC().Format(time.RFC3339)
			return map[string]any{"__typename": "DiscountCodeDeactivatePayload", "codeDiscountNode": codeNode(c), "userErrors": []map[string]any{}}
		}
	}
	return map[string]any{"__typename": "DiscountCodeDeactivatePayload", "codeDiscountNode": nil,
		"userErrors": []map[string]any{discountUserError("INVALID", "Discount does not exist", "id")}}
}

func (s *Server) discountAutomaticAppCreate(in map[string]any) any {
	payload := func(d any, errs ...map[string]any) map[string]any {
		if errs == nil {
			errs = []map[string]any{}
		}
		return map[string]any{"__typename": "DiscountAutomaticAppCreatePayload", "automaticAppDiscount": d, "userErrors": errs}
	}
	handle := str(in["functionHandle"])
	known := false
	for _, f := range s.opts.Functions {
		known = known || (f.Handle != "" && f.Handle == handle)
	}
	if !known {
		return payload(nil, discountUserError("INVALID", "Function not found.", "automaticAppDiscount", "functionHandle"))
	}
	if str(in["title"]) == "" {
		return payload(nil, discountUserError("BLANK", "Title can't be blank", "automaticAppDiscount", "title"))
	}
	d := AutomaticDiscount{ID: s.newID("DiscountAutomaticNode"), Title: str(in["title"]), FunctionHandle: handle, StartsAt: str(in["startsAt"]),
		CombinesWith: obj(in["combinesWith"]), AllBuyers: str(obj(in["context"])["all"]) == "ALL"}
	for _, c := range list(in["discountClasses"]) {
		d.DiscountClasses = append(d.DiscountClasses, str(c))
	}
	s.automatic = append(s.automatic, d)
	return payload(map[string]any{
		"__typename": "DiscountAutomaticApp", "discountId": d.ID, "title": d.Title, "status": "ACTIVE",
		"startsAt": d.StartsAt, "discountClasses": d.DiscountClasses,
	})
}

func (s *Server) shopifyFunctions(args map[string]any) any {
	apiType := str(args["apiType"])
	var matching []Function
	for _, f := range s.opts.Functions {
		if apiType == "" || f.APIType == apiType {
			matching = append(matching, f)
		}
	}
	start := 0
	if after := str(args["after"]); after != "" {
		n, err := strconv.Atoi(after)
		if err != nil {
			s.tb.Errorf("shopifyfake: bad cursor %q", after)
		}
		start = n
	}
	first, ok := integer(args["first"])
	if !ok || first <= 0 {
		first = 50
	}
	end := min(start+first, len(matching))
	nodes := []map[string]any{}
	for _, f := range matching[min(start, end):end] {
		nodes = append(nodes, map[string]any{"__typename": "ShopifyFunction", "id": f.ID, "title": f.Title, "apiType": f.APIType, "useCreationUi": false})
	}
	var endCursor any
	if end > 0 {
		endCursor = strconv.Itoa(end)
	}
	return map[string]any{
		"__typename": "ShopifyFunctionConnection",
		"nodes":      nodes,
		"pageInfo": map[string]any{
			"__typename": "PageInfo", "hasNextPage": end < len(matching), "hasPreviousPage": start > 0,
			"endCursor": endCursor, "startCursor": nil,
		},
	}
}
