package rulecsv_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/adapters/rulecsv"
	"github.com/creditbridge/creditbridge/core"
)

// TestRoundTrip: exported rules read back as the same rules, and importing
// them again changes nothing.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	d := decimal.RequireFromString
	rules := []core.Rule{
		{ID: 1, Target: core.TargetDefault, Beneficiary: "buyer", Mode: core.ModePercent, Value: d("2.5")},
		{ID: 2, Target: core.TargetProduct, TargetID: "632910392", Title: "Teekanne \"Classic\", 1 l", Beneficiary: "buyer", Mode: core.ModeFixed, Value: d("0.50")},
		{ID: 3, Target: core.TargetCollection, TargetID: "841564295", Title: "=Sommer", Beneficiary: "partner1", Mode: core.ModePercent, Value: d("1")},
		{ID: 4, Target: core.TargetSKU, TargetID: "GIFT-1", Beneficiary: "buyer", Mode: core.ModeExclude},
	}
	var buf bytes.Buffer
	if err := rulecsv.Write(&buf, rules); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "'=Sommer") {
		t.Errorf("a title starting with = must not run as a formula:\n%s", buf.String())
	}
	rows, err := rulecsv.Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	p := core.PlanRuleImport(rules, rows)
	if !p.OK() || p.Unchanged != 4 || p.Create+p.Update != 0 {
		t.Fatalf("re-import of an export: %+v", p)
	}
	if p.Lines[2].Rule.Title != "=Sommer" || p.Lines[1].Rule.Title != `Teekanne "Classic", 1 l` {
		t.Errorf("titles read back: %q %q", p.Lines[2].Rule.Title, p.Lines[1].Rule.Title)
	}
}

// TestGermanSpreadsheet: semicolons, a byte order mark, decimal commas,
// columns in another order, blank lines; every bad field is reported at
// its line and column, and nothing would be stored.
func TestGermanSpreadsheet(t *testing.T) {
	t.Parallel()
	file := "\ufeffMode;Target;Target_ID;Value;Beneficiary\r\n" +
		"percent;default;;2,5;\r\n" +
		";;;;\r\n" +
		"fixed;product;1001;0,75;buyer\r\n" +
		"percent;product;1002;150;buyer\r\n" +
		"fixed;produkt;1003;1;\r\n" +
		"fixed;variant;;abc;partner9\r\n" +
		"exclude;sku;GIFT;;\r\n" +
		"fixed;product;1001;0,80;buyer\r\n" +
		"fixed;collection;77;1,2345;\r\n"
	rows, err := rulecsv.Read(strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	existing := []core.Rule{{ID: 9, Target: core.TargetProduct, TargetID: "1001", Beneficiary: "buyer", Mode: core.ModeFixed, Value: decimal.RequireFromString("0.5")}}
	p := core.PlanRuleImport(existing, rows)
	type want struct {
		line   int
		action string
		fields []string
	}
	wants := []want{
		{2, core.ImportCreate, nil},
		{4, core.ImportUpdate, nil},
		{5, core.ImportInvalid, []string{"value:range"}},
		{6, core.ImportInvalid, []string{"target:unknown"}},
		{7, core.ImportInvalid, []string{"target_id:required", "beneficiary:unknown", "value:number"}},
		{8, core.ImportCreate, nil},
		{9, core.ImportInvalid, []string{"target_id:duplicate"}},
		{10, core.ImportInvalid, []string{"value:decimals"}},
	}
	if len(p.Lines) != len(wants) {
		t.Fatalf("lines = %+v", p.Lines)
	}
	for i, w := range wants {
		l := p.Lines[i]
		var got []string
		for _, e := range l.Errors {
			got = append(got, e.Field+":"+e.Code)
		}
		if l.Line != w.line || l.Action != w.action || strings.Join(got, ",") != strings.Join(w.fields, ",") {
			t.Errorf("line %d: %d %s %v, want %+v", i, l.Line, l.Action, got, w)
		}
	}
	if !p.Lines[0].Rule.Value.Equal(decimal.RequireFromString("2.5")) || !p.Lines[1].Previous.Value.Equal(decimal.RequireFromString("0.5")) {
		t.Errorf("values: %+v %+v", p.Lines[0].Rule, p.Lines[1].Previous)
	}
	if p.OK() || p.Create != 2 || p.Update != 1 || p.Invalid != 5 {
		t.Errorf("summary %+v", p)
	}
	if d := p.Lines[6].Errors[0]; len(d.Args) != 1 || d.Args[0] != "4" {
		t.Errorf("duplicate names the first line: %+v", d)
	}
}

func TestReadRejectsFiles(t *testing.T) {
	t.Parallel()
	for name, file := range map[string]string{
		"empty":     "",
		"no header": "percent,default,,2.5\n",
		"bad quote": "target,mode\n\"product,fixed\n",
	} {
		if _, err := rulecsv.Read(strings.NewReader(file)); core.ErrorCode(err) != core.EINVALID {
			t.Errorf("%s: err = %v, want EINVALID", name, err)
		}
	}
}
