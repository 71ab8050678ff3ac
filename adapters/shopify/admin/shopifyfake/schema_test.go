package shopifyfake

import (
	"testing"
	"time"
)

func TestAdminSchemaLoads(t *testing.T) {
	t.Parallel()
	start := time.Now()
	s := AdminSchema(t)
	t.Logf("loaded admin schema in %s", time.Since(start))
	for _, name := range []string{"QueryRoot", "Mutation", "DiscountCodeBasicInput", "MetafieldsSetInput", "DiscountCode"} {
		if s.Types[name] == nil {
			t.Errorf("type %s missing from converted schema", name)
		}
	}
	if s.Query == nil || s.Query.Name != "QueryRoot" || s.Mutation == nil || s.Mutation.Name != "Mutation" {
		t.Fatalf("root types not set: %+v %+v", s.Query, s.Mutation)
	}
	if got := len(s.PossibleTypes["DiscountCode"]); got != 4 {
		t.Errorf("union DiscountCode has %d possible types, want 4", got)
	}
}
