package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/creditbridge/creditbridge/adapters/postgres"
	"github.com/creditbridge/creditbridge/adapters/postgres/pgtest"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

var fuzzShop atomic.Int64

// FuzzLedgerInvariants decodes random bytes into a sequence of ledger
// operations (earn, adjust, place/capture/void holds, replays) on a few
// owners of a fresh shop, and after every step checks the stored balances
// against a model; a rejected operation must leave every balance exactly
// as it was. At the end the shop's audit must be clean.
func FuzzLedgerInvariants(f *testing.F) {
	f.Add([]byte{0, 10, 1, 3, 2, 5, 3, 0, 4, 1, 0, 200, 5, 7})
	f.Add([]byte{1, 255, 2, 255, 3, 1, 0, 1, 2, 1, 4, 0, 6, 6, 6})
	f.Add([]byte{2, 9, 2, 9, 2, 9, 3, 0, 3, 1, 4, 2, 0, 1, 5, 3})
	pool := pgtest.NewPool(f, 8)
	s := postgres.NewLedgerStore(pool, 2)
	f.Cleanup(s.Close)
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 64 {
			prog = prog[:64]
		}
		ctx := context.Background()
		shop := 1_000_000 + fuzzShop.Add(1)
		owners := []core.Owner{cust("a"), cust("b"), {Kind: core.OwnerPartner, ID: "p"}}
		model := map[core.Owner][2]decimal.Decimal{} // available, held
		var holds []core.Hold
		var posted []core.Transaction
		next := func(i *int) byte {
			if *i >= len(prog) {
				return 0
			}
			b := prog[*i]
			*i++
			return b
		}
		check := func(step int, op string) {
			t.Helper()
			for _, o := range owners {
				b, err := s.Balance(ctx, shop, "EUR", o)
				if err != nil {
					t.Fatal(err)
				}
				m := model[o]
				if !b.Available.Equal(m[0]) || !b.Held.Equal(m[1]) {
					t.Fatalf("step %d (%s): %s has %s/%s, model %s/%s", step, op, o, b.Available, b.Held, m[0], m[1])
				}
				if b.Available.IsNegative() || b.Held.IsNegative() {
					t.Fatalf("step %d (%s): %s negative", step, op, o)
				}
			}
		}
		for i, step := 0, 0; i < len(prog); step++ {
			op := next(&i) % 7
			o := owners[int(next(&i))%len(owners)]
			amt := decimal.New(int64(next(&i)), -2) // 0.00 .. 2.55
			m := model[o]
			switch op {
			case 0: // earn
				tx, err := s.Post(ctx, earnTx(shop, fmt.Sprintf("e%d", step), o, amt.String()))
				if amt.IsZero() {
					if core.ErrorCode(err) != core.EINVALID {
						t.Fatalf("zero earn: %v", err)
					}
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				posted = append(posted, tx)
				model[o] = [2]decimal.Decimal{m[0].Add(amt), m[1]}
			case 1: // debit adjustment
				tx := core.Transaction{ShopID: shop, Key: fmt.Sprintf("d%d", step), Reason: core.Reason{Kind: core.ReasonAdjustment, Actor: "fuzz", Note: "debit"},
					Postings: []core.Posting{{Currency: "EUR", Owner: o, Bucket: core.BucketAvailable, Amount: amt.Neg()}, {Currency: "EUR", Owner: core.ProgramOwner, Bucket: core.ProgramAdjustments, Amount: amt}}}
				_, err := s.Post(ctx, tx)
				switch {
				case amt.IsZero():
					if core.ErrorCode(err) != core.EINVALID {
						t.Fatalf("zero debit: %v", err)
					}
				case amt.GreaterThan(m[0]):
					if core.ErrorCode(err) != core.EINSUFFICIENT {
						t.Fatalf("overdraw %s of %s: %v", amt, m[0], err)
					}
				case err != nil:
					t.Fatal(err)
				default:
					model[o] = [2]decimal.Decimal{m[0].Sub(amt), m[1]}
				}
			case 2: // place hold
				h, err := holdsOf(s).Place(ctx, core.HoldRequest{ShopID: shop, Currency: "EUR", Owner: o, Amount: amt, ExpiresAt: time.Now().Add(time.Hour)})
				switch {
				case amt.IsZero():
					if core.ErrorCode(err) != core.EINVALID {
						t.Fatalf("zero hold: %v", err)
					}
				case amt.GreaterThan(m[0]):
					if core.ErrorCode(err) != core.EINSUFFICIENT {
						t.Fatalf("hold %s of %s: %v", amt, m[0], err)
					}
				case err != nil:
					t.Fatal(err)
				default:
					holds = append(holds, h)
					model[o] = [2]decimal.Decimal{m[0].Sub(amt), m[1].Add(amt)}
				}
			case 3, 4: // capture (3) or void (4) a hold, possibly already resolved
				if len(holds) == 0 {
					break
				}
				h := holds[int(amt.Coefficient().Int64())%len(holds)]
				cur, err := s.GetHold(ctx, shop, h.ID)
				if err != nil {
					t.Fatal(err)
				}
				hm := model[h.Owner]
				if op == 3 {
					capAmt := decimal.Min(amt, h.Amount)
					_, err = holdsOf(s).Capture(ctx, shop, h.ID, capAmt, core.Reason{OrderID: "o"})
					if cur.Status == core.HoldOpen {
						if err != nil {
							t.Fatal(err)
						}
						model[h.Owner] = [2]decimal.Decimal{hm[0].Add(h.Amount.Sub(capAmt)), hm[1].Sub(h.Amount)}
					} else if err == nil && (cur.Status != core.HoldCaptured || !cur.Captured.Equal(capAmt)) {
						t.Fatalf("second resolution of hold %d accepted", h.ID)
					}
				} else {
					_, err = holdsOf(s).Void(ctx, shop, h.ID, core.Reason{})
					if cur.Status == core.HoldOpen {
						if err != nil {
							t.Fatal(err)
						}
						model[h.Owner] = [2]decimal.Decimal{hm[0].Add(h.Amount), hm[1].Sub(h.Amount)}
					} else if err == nil && cur.Status != core.HoldVoided {
						t.Fatalf("void of %s hold %d accepted", cur.Status, h.ID)
					}
				}
			case 5: // replay an earlier transaction: no effect
				if len(posted) == 0 {
					break
				}
				p := posted[int(amt.Coefficient().Int64())%len(posted)]
				re := core.Transaction{ShopID: shop, Key: p.Key, Reason: p.Reason, Postings: p.Postings}
				got, err := s.Post(ctx, re)
				if err != nil || !got.Replayed || got.ID != p.ID {
					t.Fatalf("replay of %s: %v replayed=%v", p.Key, err, got.Replayed)
				}
			case 6: // reuse a key with other content: conflict, no effect
				if len(posted) == 0 {
					break
				}
				p := posted[int(amt.Coefficient().Int64())%len(posted)]
				_, err := s.Post(ctx, earnTx(shop, p.Key, o, "9.99"))
				if core.ErrorCode(err) != core.ECONFLICT {
					t.Fatalf("key reuse: %v", err)
				}
			}
			check(step, fmt.Sprint(op))
		}
		r, err := postgres.Audit(ctx, pool, shop)
		if err != nil {
			t.Fatal(err)
		}
		if !r.OK() {
			t.Fatalf("audit:\n%s", r)
		}
	})
}
