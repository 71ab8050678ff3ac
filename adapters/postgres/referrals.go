package postgres

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"
)

// ReferralStore pays and reverses bring-a-friend rewards (core/referral.go):
// one row per referred customer in referral_rewards, decided under an
// advisory lock on that customer and, for the monthly limit, on the
// referrer, together with its ledger transactions. It follows the orders
// of shops with rewards configured (core.OrderFollower) and reads the
// order as stored, so a refund or a cancellation that arrives in any
// order, any number of times, converges on the same books.
type ReferralStore struct {
	L      *LedgerStore
	Dir    *Directory
	Now    func() time.Time     // nil: time.Now
	Notify core.BalanceNotifier // optional: told after balances changed
}

var (
	_ core.OrderFollower       = ReferralStore{}
	_ core.ReferralRewardStore = ReferralStore{}
)

// Follows reports whether the shop pays referral rewards.
func (s ReferralStore) Follows(shop core.Shop) bool { return shop.Settings.Referral.RewardsOn() }

func (s ReferralStore) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

const referralCols = `id, referred_owner, order_id, order_number, referrer_kind, referrer_id, status, coalesce(refusal, ''), currency,
order_net, reward_amount, welcome_amount, coalesce(reward_tx_id, 0), coalesce(welcome_tx_id, 0), ordered_at, created_at, reversed_at`

func scanReferral(row pgx.Row) (int64, core.ReferralReward, error) {
	var r core.ReferralReward
	var id int64
	var referred, rk, status string
	err := row.Scan(&id, &referred, &r.OrderID, &r.OrderNumber, &rk, &r.Referrer.ID, &status, &r.Refusal, &r.Currency,
		&r.OrderNet, &r.RewardAmount, &r.WelcomeAmount, &r.RewardTxID, &r.WelcomeTxID, &r.OrderedAt, &r.CreatedAt, &r.ReversedAt)
	r.Referred = core.Owner{Kind: core.OwnerCustomer, ID: referred}
	r.Referrer.Kind = core.OwnerKind(rk)
	r.Status = core.ReferralStatus(status)
	return id, r, err
}

func referralLock(ctx context.Context, tx pgx.Tx, scope string, shopID int64, id string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1 || ':' || $2::bigint || ':' || $3::text, 0))`, scope, shopID, id)
	return err
}

// OrderApplied converges the reward of the order's buyer after the order
// changed (core.OrderFollower). o is the snapshot just applied (with the
// buyer's e-mail when the platform sent one) or, after a refund or a
// deletion, the stored snapshot.
func (s ReferralStore) OrderApplied(ctx context.Context, shop core.Shop, o core.Order, buyer core.Owner) error {
	cfg := shop.Settings.Referral.ReferralRewardSettings
	if !cfg.RewardsOn() || buyer.Kind != core.OwnerCustomer || o.OrderID == "" {
		return nil
	}
	// Most orders are neither referred first orders nor the order a reward
	// was paid for: one indexed read answers them.
	var recOrder string
	err := s.L.pool.QueryRow(ctx, `SELECT order_id FROM referral_rewards WHERE shop_id = $1 AND referred_owner = $2`, shop.ID, buyer.ID).Scan(&recOrder)
	switch {
	case err == nil:
		if recOrder != o.OrderID {
			return nil
		}
	case errors.Is(err, pgx.ErrNoRows):
		if !o.Paid || o.Cancelled || o.FullyRefunded || (o.PartnerRef == "" && !shop.Settings.Referral.Binding) {
			return nil
		}
	default:
		return fmt.Errorf("postgres: referral reward: %w", err)
	}
	// The referrer (level 1 of the order's referral), resolved before the
	// transaction like the earner does; a self-referral has none.
	var chain []core.Owner
	if recOrder == "" {
		if o.Customer.Email == "" {
			if err := s.L.pool.QueryRow(ctx, `SELECT coalesce(email, '') FROM customers WHERE shop_id = $1 AND owner_id = $2`, shop.ID, buyer.ID).Scan(&o.Customer.Email); err != nil && !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("postgres: referral buyer: %w", err)
			}
		}
		one := shop
		one.Settings.PartnerLevels = max(1, shop.Settings.PartnerLevels)
		if chain, err = s.Dir.PartnerChain(ctx, one, o, buyer); err != nil {
			return err
		}
		if len(chain) == 0 {
			return nil // no referral, or a self-referral (refused where attribution is decided)
		}
	}
	now := s.now()
	var changed []core.Owner
	err = s.L.inTx(ctx, func(tx pgx.Tx) error {
		changed = nil
		if err := referralLock(ctx, tx, "referral", shop.ID, buyer.ID); err != nil {
			return err
		}
		// One person may order as a guest and as a registered customer
		// (two owners, one address): a reward for either is the person's
		// one reward, and an order of either is an earlier order.
		same := []string{buyer.ID}
		if recOrder == "" && o.Customer.Email != "" {
			eh := emailHash(shop, o.Customer.Email)
			if err := referralLock(ctx, tx, "referral-email", shop.ID, hex.EncodeToString(eh)); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, `SELECT owner_id FROM customers WHERE shop_id = $1 AND email_hash = $2 AND owner_id <> $3`, shop.ID, eh, buyer.ID)
			if err != nil {
				return fmt.Errorf("postgres: referral owners: %w", err)
			}
			others, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				return err
			}
			same = append(same, others...)
			if len(others) > 0 {
				var decided bool
				if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM referral_rewards WHERE shop_id = $1 AND referred_owner = ANY($2))`, shop.ID, others).Scan(&decided); err != nil {
					return fmt.Errorf("postgres: referral reward: %w", err)
				}
				if decided {
					return nil // this person's referral was decided on their other account
				}
			}
		}
		st, err := scanOrderState(tx.QueryRow(ctx, orderStateSQL, shop.ID, o.OrderID))
		if err != nil {
			return err
		}
		if st.Order.OrderID == "" {
			return nil
		}
		st.Order.Customer = o.Customer
		f := core.ReferralFacts{State: st, ShopCurrency: shop.Currency, Referred: len(chain) > 0}
		var recID int64
		var rec core.ReferralReward
		recID, rec, err = scanReferral(tx.QueryRow(ctx, `SELECT `+referralCols+` FROM referral_rewards WHERE shop_id = $1 AND referred_owner = $2`, shop.ID, buyer.ID))
		switch {
		case err == nil:
			f.Existing = &rec
		case !errors.Is(err, pgx.ErrNoRows):
			return fmt.Errorf("postgres: referral reward: %w", err)
		}
		orderedAt := st.Order.CreatedAt
		if orderedAt.IsZero() {
			orderedAt = now
		}
		if f.Existing == nil && f.Referred {
			f.Referrer = chain[0]
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orders WHERE shop_id = $1 AND buyer_owner = ANY($2) AND order_id <> $3
	AND (snapshot->>'Paid')::boolean AND NOT (snapshot->>'Cancelled')::boolean AND (snapshot->>'CreatedAt')::timestamptz < $4)`,
				shop.ID, same, o.OrderID, orderedAt).Scan(&f.EarlierPaid); err != nil {
				return fmt.Errorf("postgres: referral first order: %w", err)
			}
			if f.Referrer.Kind != "" && cfg.MaxRewardsPerMonth > 0 {
				if err := referralLock(ctx, tx, "referrer", shop.ID, f.Referrer.String()); err != nil {
					return err
				}
				loc := shop.Settings.Location()
				from := core.PeriodStart(core.PeriodMonth, orderedAt, loc)
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM referral_rewards WHERE shop_id = $1 AND referrer_kind = $2 AND referrer_id = $3
	AND status = 'rewarded' AND ordered_at >= $4 AND ordered_at < $5`, shop.ID, string(f.Referrer.Kind), f.Referrer.ID, from, from.AddDate(0, 1, 0)).Scan(&f.MonthRewards); err != nil {
					return fmt.Errorf("postgres: referral month: %w", err)
				}
			}
		}
		action, refusal := core.PlanReferral(cfg, f)
		net := core.ReferralOrderNet(st)
		switch action {
		case core.ReferralRefuse:
			_, err := tx.Exec(ctx, `INSERT INTO referral_rewards (shop_id, referred_owner, order_id, order_number, referrer_kind, referrer_id, status, refusal, currency, order_net, ordered_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 'refused', $7, $8, $9, $10, $11)`, shop.ID, buyer.ID, o.OrderID, st.Order.OrderNumber, string(f.Referrer.Kind), f.Referrer.ID,
				refusal, st.Order.Currency, net, orderedAt.UTC(), now.UTC())
			return err
		case core.ReferralGrant:
			ids, owners, err := s.grant(ctx, tx, shop, st, buyer, f.Referrer, cfg)
			if err != nil {
				return err
			}
			changed = owners
			_, err = tx.Exec(ctx, `INSERT INTO referral_rewards (shop_id, referred_owner, order_id, order_number, referrer_kind, referrer_id, status, currency, order_net,
	reward_amount, welcome_amount, reward_tx_id, welcome_tx_id, ordered_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6, 'rewarded', $7, $8, $9, $10, NULLIF($11, 0::bigint), NULLIF($12, 0::bigint), $13, $14)`, shop.ID, buyer.ID, o.OrderID, st.Order.OrderNumber,
				string(f.Referrer.Kind), f.Referrer.ID, st.Order.Currency, net, amountOf(cfg.RewardAmount), amountOf(cfg.WelcomeAmount), ids[0], ids[1], orderedAt.UTC(), now.UTC())
			return err
		case core.ReferralReverse:
			owners, err := s.reverse(ctx, tx, shop, rec, buyer)
			if err != nil {
				return err
			}
			changed = owners
			_, err = tx.Exec(ctx, `UPDATE referral_rewards SET status = 'reversed', reversed_at = $3 WHERE shop_id = $1 AND id = $2 AND status = 'rewarded'`, shop.ID, recID, now.UTC())
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: referral reward of order %s: %w", o.OrderID, err)
	}
	if len(changed) > 0 && s.Notify != nil {
		s.Notify(ctx, shop, changed)
	}
	return nil
}

func amountOf(v decimal.NullDecimal) decimal.Decimal {
	if v.Valid && v.Decimal.IsPositive() {
		return v.Decimal
	}
	return decimal.Zero
}

// grant posts the referrer's reward and the welcome credit (each its own
// transaction, so each owner's statement shows its own reason), into
// pending when the shop has a holding period, and pays back overdrafts.
func (s ReferralStore) grant(ctx context.Context, tx pgx.Tx, shop core.Shop, st core.OrderState, buyer, referrer core.Owner, cfg core.ReferralRewardSettings) ([2]int64, []core.Owner, error) {
	var ids [2]int64
	var owners []core.Owner
	cur := st.Order.Currency
	bucket := core.BucketAvailable
	if shop.Settings.PendingDays > 0 {
		bucket = core.BucketPending
	}
	parts := []struct {
		part   string
		kind   core.ReasonKind
		owner  core.Owner
		amount decimal.Decimal
	}{
		{"reward", core.ReasonReferralReward, referrer, amountOf(cfg.RewardAmount)},
		{"welcome", core.ReasonReferralWelcome, buyer, amountOf(cfg.WelcomeAmount)},
	}
	for i, p := range parts {
		if !p.amount.IsPositive() {
			continue
		}
		if err := core.CheckScale(cur, p.amount); err != nil {
			return ids, nil, err
		}
		// Credit goes where the owner's credit now is (a claimed guest's
		// customer account).
		owner, err := currentOwner(ctx, tx, shop.ID, p.owner)
		if err != nil {
			return ids, nil, err
		}
		p.owner = owner
		t, err := s.L.postInTx(ctx, tx, mustValid(core.Transaction{ShopID: shop.ID, Key: core.ReferralTxKey(buyer, p.part),
			Reason: core.Reason{Kind: p.kind, OrderID: st.Order.OrderID, OrderNumber: st.Order.OrderNumber, Rule: "referral"},
			Postings: []core.Posting{
				{Currency: cur, Owner: core.ProgramOwner, Bucket: core.ProgramIssued, Amount: p.amount.Neg()},
				{Currency: cur, Owner: p.owner, Bucket: bucket, Amount: p.amount},
			}}))
		if err != nil {
			return ids, nil, err
		}
		ids[i] = t.ID
		owners = append(owners, p.owner)
		for _, after := range t.After {
			if after.Owner != p.owner {
				continue
			}
			if settle, ok := core.SettleOverdraft(shop.ID, cur, p.owner, after); ok {
				if _, err := s.L.postInTx(ctx, tx, settle); err != nil {
					return ids, nil, err
				}
			}
		}
	}
	return ids, owners, nil
}

// reverse takes back what a reward paid, from wherever that credit now is
// (an owner whose credit moved, a claimed guest or a linked partner,
// resolves to its new owner): pending first, then available, the rest a
// recorded overdraft.
func (s ReferralStore) reverse(ctx context.Context, tx pgx.Tx, shop core.Shop, rec core.ReferralReward, buyer core.Owner) ([]core.Owner, error) {
	var owners []core.Owner
	parts := []struct {
		part   string
		owner  core.Owner
		amount decimal.Decimal
		txID   int64
	}{
		{"reward", rec.Referrer, rec.RewardAmount, rec.RewardTxID},
		{"welcome", buyer, rec.WelcomeAmount, rec.WelcomeTxID},
	}
	for _, p := range parts {
		if p.txID == 0 || !p.amount.IsPositive() {
			continue
		}
		owner, err := currentOwner(ctx, tx, shop.ID, p.owner)
		if err != nil {
			return nil, err
		}
		b := core.Balance{ShopID: shop.ID, Currency: rec.Currency, Owner: owner}
		err = tx.QueryRow(ctx, `SELECT available, pending, held, overdraft, version FROM ledger_balances
WHERE shop_id = $1 AND currency = $2 AND owner_kind = $3 AND owner_id = $4 FOR UPDATE`, shop.ID, rec.Currency, string(owner.Kind), owner.ID).
			Scan(&b.Available, &b.Pending, &b.Held, &b.Overdraft, &b.Version)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return nil, err
		}
		if _, err := s.L.postInTx(ctx, tx, mustValid(core.Transaction{ShopID: shop.ID, Key: core.ReferralTxKey(buyer, p.part) + ":reverse", Reverses: p.txID,
			Reason:   core.Reason{Kind: core.ReasonReferralReversal, OrderID: rec.OrderID, OrderNumber: rec.OrderNumber, Rule: "referral", Note: p.part},
			Postings: core.ReverseCredit(rec.Currency, owner, b, p.amount)})); err != nil {
			return nil, err
		}
		owners = append(owners, owner)
	}
	return owners, nil
}

// currentOwner follows an owner link (one hop: a target never moves on).
func currentOwner(ctx context.Context, tx pgx.Tx, shopID int64, o core.Owner) (core.Owner, error) {
	var kind, id string
	err := tx.QueryRow(ctx, `SELECT to_kind, to_id FROM owner_links WHERE shop_id = $1 AND from_kind = $2 AND from_id = $3`, shopID, string(o.Kind), o.ID).Scan(&kind, &id)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, nil
	}
	if err != nil {
		return o, fmt.Errorf("postgres: owner link: %w", err)
	}
	return core.Owner{Kind: core.OwnerKind(kind), ID: id}, nil
}

// ReferralRewards lists the shop's recorded referral rewards, refusals
// with their reasons included, newest first.
func (s ReferralStore) ReferralRewards(ctx context.Context, shopID int64, q core.ReferralQuery) (core.ReferralRewardPage, error) {
	page := core.ReferralRewardPage{Rewards: []core.ReferralReward{}}
	limit := q.Limit
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	before := q.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	rows, err := s.L.pool.Query(ctx, `SELECT `+referralCols+` FROM referral_rewards WHERE shop_id = $1 AND ($2 = '' OR status = $2) AND id < $3
ORDER BY id DESC LIMIT $4`, shopID, string(q.Status), before, limit+1)
	if err != nil {
		return page, fmt.Errorf("postgres: referral rewards: %w", err)
	}
	defer rows.Close()
	var last int64
	for rows.Next() {
		id, r, err := scanReferral(rows)
		if err != nil {
			return page, err
		}
		if len(page.Rewards) == limit {
			page.Next = strconv.FormatInt(last, 10)
			break
		}
		last = id
		page.Rewards = append(page.Rewards, r)
	}
	return page, rows.Err()
}

// revokeForOrder reverses the reward and welcome credit paid for the
// buyer's referral when orderID is the order they were paid for (a
// self-referral found later and reversed by the merchant); nothing
// otherwise, and nothing again on a repeat.
func (s ReferralStore) revokeForOrder(ctx context.Context, shop core.Shop, buyer core.Owner, orderID string) ([]core.Owner, error) {
	var owners []core.Owner
	err := s.L.inTx(ctx, func(tx pgx.Tx) error {
		owners = nil
		if err := referralLock(ctx, tx, "referral", shop.ID, buyer.ID); err != nil {
			return err
		}
		recID, rec, err := scanReferral(tx.QueryRow(ctx, `SELECT `+referralCols+` FROM referral_rewards
WHERE shop_id = $1 AND referred_owner = $2 AND order_id = $3 AND status = 'rewarded'`, shop.ID, buyer.ID, orderID))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("postgres: referral reward: %w", err)
		}
		if owners, err = s.reverse(ctx, tx, shop, rec, buyer); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE referral_rewards SET status = 'reversed', reversed_at = $3 WHERE shop_id = $1 AND id = $2 AND status = 'rewarded'`, shop.ID, recID, s.now().UTC())
		return err
	})
	return owners, err
}
