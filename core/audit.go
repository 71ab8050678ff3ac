package core

import (
	"fmt"
	"strings"
)

// Audit check names.
const (
	CheckBalanced        = "transaction_balanced"    // postings sum to zero per currency
	CheckBalanceRows     = "balance_matches"         // stored owner balance == sum of postings
	CheckEntries         = "statement_consistent"    // statement running balance == stored balance
	CheckNonNegative     = "owner_non_negative"      // available/pending/held >= 0, overdraft <= 0
	CheckHoldsResolved   = "hold_resolved_once"      // every hold resolved at most once, consistently
	CheckHeldMatchesOpen = "held_matches_open_holds" // held balance == sum of open holds
	CheckOverdraft       = "overdraft"               // notice: owners with a recorded overdraft
	CheckEarnedBound     = "earned_within_orders"    // no credit beyond what the shop's orders could ever earn
	CheckEarnLines       = "earn_lines_match"        // a per-order earning's lines add up to its postings, one owner each
)

// Severity of an audit finding.
const (
	SeverityError  = "error"
	SeverityNotice = "notice"
)

// AuditFinding is one violated (error) or noteworthy (notice) invariant.
type AuditFinding struct {
	Check    string `json:"check"`
	Severity string `json:"severity"`
	ShopID   int64  `json:"shop_id"`
	Detail   string `json:"detail"`
}

// AuditReport is the result of checking the ledger's invariants.
type AuditReport struct {
	ShopID       int64          `json:"shop_id,omitempty"` // 0 = all shops
	Transactions int64          `json:"transactions"`
	Postings     int64          `json:"postings"`
	Accounts     int64          `json:"accounts"`
	Holds        int64          `json:"holds"`
	Findings     []AuditFinding `json:"findings"`
}

// OK reports whether no invariant is violated (notices do not count).
func (r AuditReport) OK() bool {
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			return false
		}
	}
	return true
}

// String renders the report for a terminal.
func (r AuditReport) String() string {
	var b strings.Builder
	scope := "all shops"
	if r.ShopID != 0 {
		scope = fmt.Sprintf("shop %d", r.ShopID)
	}
	fmt.Fprintf(&b, "audit of %s: %d transactions, %d postings, %d owner accounts, %d holds\n", scope, r.Transactions, r.Postings, r.Accounts, r.Holds)
	errs := 0
	for _, f := range r.Findings {
		if f.Severity == SeverityError {
			errs++
		}
		fmt.Fprintf(&b, "  %-6s %-24s shop=%d %s\n", strings.ToUpper(f.Severity), f.Check, f.ShopID, f.Detail)
	}
	if errs == 0 {
		b.WriteString("OK: every invariant holds\n")
	} else {
		fmt.Fprintf(&b, "FAILED: %d invariant violation(s)\n", errs)
	}
	return b.String()
}
