package core

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/shopspring/decimal"
)

// FrozenRate is the credit rule frozen for one (order line, beneficiary)
// the first time the line earned. Later rule changes never touch it, so a
// refund reverses exactly what was earned.
type FrozenRate struct {
	LineID      string          `json:"line_id"`
	Beneficiary string          `json:"beneficiary"`
	Owner       Owner           `json:"owner"`
	Rule        string          `json:"rule"`      // description of the rule
	UnitRate    decimal.Decimal `json:"unit_rate"` // credit per unit, unrounded
	ProductID   string          `json:"product_id,omitempty"`
	VariantID   string          `json:"variant_id,omitempty"`
	SKU         string          `json:"sku,omitempty"`
	Product     string          `json:"product,omitempty"`
}

// Key identifies the rate's slot in an order's credit state.
func (f FrozenRate) Key() string { return f.LineID + "/" + f.Beneficiary }

// OrderState is everything the ledger's order processing knows about an
// order: its newest snapshot, all refunds ever seen and the frozen rates.
type OrderState struct {
	Order   Order
	Refunds map[string]Refund // by refund id
	Rates   []FrozenRate
	Buyer   Owner // the buyer's owner as stored with the snapshot
	buyer   Owner
}

// RefundedQuantities sums refunded units per line over all known refunds.
// The sum saturates (negative quantities count as zero), so no set of
// refunds can wrap it around into fewer refunded units.
func (s OrderState) RefundedQuantities() map[string]int64 {
	q := map[string]int64{}
	for _, r := range s.Refunds {
		for _, l := range r.Lines {
			if l.Quantity <= 0 {
				continue
			}
			if q[l.LineID] > math.MaxInt64-l.Quantity {
				q[l.LineID] = math.MaxInt64
			} else {
				q[l.LineID] += l.Quantity
			}
		}
	}
	return q
}

// FreezeRates returns the rates for lines and beneficiaries that have none
// yet, resolving today's rules. partners[i] is the owner of sponsor level
// i+1. Lines that are gift cards or match no rule get no rate.
func FreezeRates(o Order, have []FrozenRate, rules RuleSet, buyer Owner, partners []Owner) []FrozenRate {
	exists := map[string]bool{}
	for _, r := range have {
		exists[r.Key()] = true
	}
	var out []FrozenRate
	for _, l := range o.Lines {
		if l.GiftCard || l.Quantity <= 0 {
			continue
		}
		bens := []struct {
			name  string
			owner Owner
		}{{BeneficiaryBuyer, buyer}}
		for i, p := range partners {
			bens = append(bens, struct {
				name  string
				owner Owner
			}{PartnerLevel(i + 1), p})
		}
		for _, b := range bens {
			if exists[l.LineID+"/"+b.name] {
				continue
			}
			rule, ok := rules.Resolve(l, b.name)
			if !ok {
				continue
			}
			out = append(out, FrozenRate{LineID: l.LineID, Beneficiary: b.name, Owner: b.owner, Rule: rule.Describe(),
				UnitRate: rule.UnitRate(l), ProductID: l.ProductID, VariantID: l.VariantID, SKU: l.SKU, Product: l.Title})
		}
	}
	return out
}

// DesiredCredit is the order's desired credit per (line, beneficiary):
// round(frozen unit rate × (ordered − refunded units)), or zero when the
// order is not paid, is cancelled or is fully refunded.
func DesiredCredit(s OrderState) (map[string]decimal.Decimal, error) {
	out := map[string]decimal.Decimal{}
	qty := map[string]int64{}
	for _, l := range s.Order.Lines {
		qty[l.LineID] = l.Quantity
	}
	refunded := s.RefundedQuantities()
	earning := s.Order.Paid && !s.Order.Cancelled && !s.Order.FullyRefunded
	for _, r := range s.Rates {
		amt := decimal.Zero
		if earning {
			n := qty[r.LineID] - refunded[r.LineID]
			if n > 0 {
				var err error
				amt, err = RoundCredit(s.Order.Currency, r.UnitRate.Mul(decimal.NewFromInt(n)))
				if err != nil {
					return nil, err
				}
			}
		}
		out[r.Key()] = amt
	}
	return out, nil
}

// PostedCredit sums, per (line, beneficiary), what the order's earn and
// earn-reversal transactions moved to their beneficiaries, and counts the
// transactions per slot (for versioned keys).
func PostedCredit(txs []Transaction) (amounts map[string]decimal.Decimal, versions map[string]int) {
	amounts, versions = map[string]decimal.Decimal{}, map[string]int{}
	for _, t := range txs {
		if t.Reason.Kind != ReasonEarn && t.Reason.Kind != ReasonEarnReversal {
			continue
		}
		k := t.Reason.LineID + "/" + t.Reason.Beneficiary
		versions[k]++
		for _, p := range t.Postings {
			if p.Owner.Kind == OwnerProgram {
				amounts[k] = amounts[k].Sub(p.Amount)
			}
		}
	}
	return amounts, versions
}

// OwnerFunds is what PlanEarnings needs to know of a beneficiary to split a
// reversal: how much is pending and available right now.
type OwnerFunds struct {
	Pending   decimal.Decimal
	Available decimal.Decimal
}

// PlanEarnings returns the transactions that move the books from what was
// posted for the order to its desired credit state. Earnings go to
// available (or pending when pendingUntil is set). A reversal takes from
// pending first, then available; what the owner already spent becomes a
// recorded overdraft, paid back by later earnings.
func PlanEarnings(s OrderState, posted []Transaction, funds func(Owner) OwnerFunds, pending bool) ([]Transaction, error) {
	desired, err := DesiredCredit(s)
	if err != nil {
		return nil, err
	}
	have, versions := PostedCredit(posted)
	rates := append([]FrozenRate(nil), s.Rates...)
	sort.Slice(rates, func(i, j int) bool { return rates[i].Key() < rates[j].Key() })
	o := s.Order
	used := map[Owner]OwnerFunds{}
	var out []Transaction
	for _, r := range rates {
		k := r.Key()
		diff := desired[k].Sub(have[k])
		if diff.IsZero() {
			continue
		}
		reason := Reason{OrderID: o.OrderID, OrderNumber: o.OrderNumber, LineID: r.LineID, ProductID: r.ProductID, VariantID: r.VariantID,
			SKU: r.SKU, Product: r.Product, Rule: r.Rule, Beneficiary: r.Beneficiary}
		v := versions[k] + 1
		t := Transaction{ShopID: o.ShopID, Reason: reason}
		if diff.IsPositive() {
			t.Reason.Kind = ReasonEarn
			t.Key = fmt.Sprintf("order:%s:line:%s:%s:earn:v%d", o.OrderID, r.LineID, r.Beneficiary, v)
			bucket := BucketAvailable
			if pending {
				bucket = BucketPending
			}
			t.Postings = []Posting{
				{Currency: o.Currency, Owner: ProgramOwner, Bucket: ProgramIssued, Amount: diff.Neg()},
				{Currency: o.Currency, Owner: r.Owner, Bucket: bucket, Amount: diff},
			}
		} else {
			t.Reason.Kind = ReasonEarnReversal
			t.Key = fmt.Sprintf("order:%s:line:%s:%s:reverse:v%d", o.OrderID, r.LineID, r.Beneficiary, v)
			if last := lastEarn(posted, r.LineID, r.Beneficiary); last != 0 {
				t.Reverses = last
			}
			f, ok := used[r.Owner]
			if !ok {
				f = funds(r.Owner)
			}
			need := diff.Neg()
			t.Postings = []Posting{{Currency: o.Currency, Owner: ProgramOwner, Bucket: ProgramIssued, Amount: need}}
			take := func(b Bucket, have *decimal.Decimal) {
				n := decimal.Min(need, *have)
				if n.IsPositive() {
					t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: r.Owner, Bucket: b, Amount: n.Neg()})
					*have = have.Sub(n)
					need = need.Sub(n)
				}
			}
			take(BucketPending, &f.Pending)
			take(BucketAvailable, &f.Available)
			if need.IsPositive() {
				t.Postings = append(t.Postings, Posting{Currency: o.Currency, Owner: r.Owner, Bucket: BucketOverdraft, Amount: need.Neg()})
			}
			used[r.Owner] = f
		}
		out = append(out, t)
	}
	return out, nil
}

func lastEarn(txs []Transaction, line, ben string) int64 {
	var id int64
	for _, t := range txs {
		if t.Reason.Kind == ReasonEarn && t.Reason.LineID == line && t.Reason.Beneficiary == ben {
			id = t.ID
		}
	}
	return id
}

// SettleOverdraft returns the transaction that pays back an owner's
// overdraft from available credit, or ok=false when there is nothing to
// settle. seq makes the key unique (the owner's balance version).
func SettleOverdraft(shopID int64, currency string, owner Owner, b Balance) (Transaction, bool) {
	owed := b.Overdraft.Neg()
	n := decimal.Min(owed, b.Available)
	if !n.IsPositive() {
		return Transaction{}, false
	}
	return Transaction{ShopID: shopID, Key: "overdraft:" + owner.String() + ":" + currency + ":settle:" + strconv.FormatInt(b.Version, 10),
		Reason: Reason{Kind: ReasonOverdraftSettle},
		Postings: []Posting{
			{Currency: currency, Owner: owner, Bucket: BucketAvailable, Amount: n.Neg()},
			{Currency: currency, Owner: owner, Bucket: BucketOverdraft, Amount: n},
		}}, true
}

// IsStale reports whether a snapshot is older than the newest applied one.
func IsStale(snapshot, newest time.Time) bool {
	return !newest.IsZero() && snapshot.Before(newest)
}
