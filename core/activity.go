package core

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Activity rewards: credit for things other than buying (an account
// created, a product review approved, a newsletter opt-in, a birthday).
// The shop configures what each kind of activity earns and how often
// (ShopSettings.Activities); platforms or the merchant report activities
// through the signed events API. Each activity pays at most once per
// subject and slot (the ledger key is the slot), and can be revoked by a
// transaction that reverses the reward.

// Reason kinds of activity rewards.
const (
	ReasonActivity       ReasonKind = "activity"        // an activity (review, sign-up, ...) earned credit
	ReasonActivityRevoke ReasonKind = "activity_revoke" // the activity's reward was revoked
)

// Activity periods for caps (calendar periods in the shop's time zone).
const (
	PeriodDay   = "day"
	PeriodWeek  = "week" // Monday to Sunday
	PeriodMonth = "month"
	PeriodYear  = "year"
)

// ActivityRule is what one kind of activity earns.
type ActivityRule struct {
	// Kind names the activity: lower-case letters, digits and '_'
	// (account_created, review, newsletter, birthday, profile_completed, …).
	Kind string `json:"kind"`
	// Amount is the credit, in the shop's currency.
	Amount decimal.Decimal `json:"amount"`
	// PerObject: the activity pays once per (subject, object), e.g. one
	// review per product (object = product id) or one birthday per year
	// (object = the year); otherwise once per subject and the object is
	// ignored.
	PerObject bool `json:"per_object,omitempty"`
	// MaxPerPeriod > 0 caps how many of these activities pay per subject
	// and Period (e.g. 3 reviews a month).
	MaxPerPeriod int    `json:"max_per_period,omitempty"`
	Period       string `json:"period,omitempty"`
}

var activityKindRe = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// Validate checks a rule.
func (r ActivityRule) Validate() error {
	if !activityKindRe.MatchString(r.Kind) {
		return Errorf(EINVALID, "activity kind must be 1..40 lower-case letters, digits or '_'")
	}
	if !r.Amount.IsPositive() || r.Amount.Exponent() < -3 {
		return Errorf(EINVALID, "activity %s: amount must be positive with at most 3 decimals", r.Kind)
	}
	if r.MaxPerPeriod < 0 || r.MaxPerPeriod > 1000 {
		return Errorf(EINVALID, "activity %s: max_per_period must be 0..1000", r.Kind)
	}
	switch r.Period {
	case "":
		if r.MaxPerPeriod > 0 {
			return Errorf(EINVALID, "activity %s: max_per_period needs a period (day, week, month or year)", r.Kind)
		}
	case PeriodDay, PeriodWeek, PeriodMonth, PeriodYear:
	default:
		return Errorf(EINVALID, "activity %s: period must be day, week, month or year", r.Kind)
	}
	return nil
}

// PeriodStart returns the start of the calendar period containing t in
// loc (midnight of the day, Monday of the week, the 1st of the month, 1
// January).
func PeriodStart(period string, t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	switch period {
	case PeriodDay:
		return time.Date(y, m, d, 0, 0, 0, 0, loc)
	case PeriodWeek:
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		return time.Date(y, m, d-wd, 0, 0, 0, 0, loc)
	case PeriodMonth:
		return time.Date(y, m, 1, 0, 0, 0, 0, loc)
	case PeriodYear:
		return time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	}
	return time.Time{}
}

// Location returns the shop's time zone (UTC when unset or unknown).
func (s ShopSettings) Location() *time.Location {
	if s.TimeZone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// ActivityStatus is the outcome of a reported activity.
type ActivityStatus string

// Activity outcomes. A refused activity is recorded too, so a repeat of
// the same idempotency key gets the same answer.
const (
	ActivityRewarded ActivityStatus = "rewarded"
	ActivityRefused  ActivityStatus = "refused"
	ActivityRevoked  ActivityStatus = "revoked"
)

// ActivityEvent is one reported activity and what it earned.
type ActivityEvent struct {
	ID         int64           `json:"id"`
	ShopID     int64           `json:"-"`
	Key        string          `json:"idempotency_key"`
	Kind       string          `json:"kind"`
	Owner      Owner           `json:"subject"`
	Object     string          `json:"object,omitempty"`
	Status     ActivityStatus  `json:"status"`
	Refusal    string          `json:"refusal,omitempty"` // why nothing was paid
	Currency   string          `json:"currency,omitempty"`
	Amount     decimal.Decimal `json:"amount"`
	TxID       int64           `json:"transaction_id,omitempty"`
	RevokeTxID int64           `json:"revoke_transaction_id,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
	RevokedAt  *time.Time      `json:"revoked_at,omitempty"`
	Replayed   bool            `json:"replayed"`
}

// Refusal reasons.
const (
	RefusedNotConfigured = "activity kind not configured for this shop"
	RefusedAlreadyPaid   = "this activity was already rewarded for this subject"
	RefusedCap           = "cap reached for this period"
)

// ActivityTx is the storage view of one subject's activities inside one
// database transaction that holds the subject's lock.
type ActivityTx interface {
	// EventByKey returns the event with idempotency key key.
	EventByKey(ctx context.Context, key string) (ActivityEvent, bool, error)
	// SlotTaken reports whether (kind, object) already paid the subject
	// (revoked rewards count: an activity pays at most once).
	SlotTaken(ctx context.Context, kind, object string) (bool, error)
	// CountSince counts the subject's rewarded (not revoked) activities of
	// kind created at or after since.
	CountSince(ctx context.Context, kind string, since time.Time) (int, error)
	// Insert stores a new event (ID and CreatedAt filled in).
	Insert(ctx context.Context, ev ActivityEvent) (ActivityEvent, error)
	// MarkRevoked records the revocation of a rewarded event.
	MarkRevoked(ctx context.Context, id, txID int64, at time.Time) error
	Funds(ctx context.Context, currency string) (Balance, error)
	Post(ctx context.Context, t Transaction) (Transaction, error)
}

// ActivityStore runs fn with the subject locked, in one database
// transaction.
type ActivityStore interface {
	WithSubject(ctx context.Context, shopID int64, owner Owner, fn func(ActivityTx) error) error
}

// ActivityRequest reports an activity.
type ActivityRequest struct {
	Kind   string
	Owner  Owner
	Object string // e.g. the reviewed product's id
	Key    string // idempotency key, unique per shop
}

// Activities pays and revokes activity rewards.
type Activities struct {
	Store  ActivityStore
	Now    func() time.Time
	Notify BalanceNotifier // optional: told after a balance changed
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// MaxActivityObject bounds ActivityRequest.Object.
const MaxActivityObject = 100

func (r ActivityRequest) validate() error {
	if !activityKindRe.MatchString(r.Kind) {
		return Errorf(EINVALID, "kind must be 1..40 lower-case letters, digits or '_'")
	}
	if err := r.Owner.Validate(); err != nil {
		return err
	}
	if r.Owner.Kind != OwnerCustomer {
		return Errorf(EINVALID, "the subject of an activity must be a customer")
	}
	if r.Key == "" || len(r.Key) > 200 {
		return Errorf(EINVALID, "an activity needs an idempotency_key of 1..200 characters")
	}
	if len(r.Object) > MaxActivityObject || strings.ContainsAny(r.Object, ":\n\r") {
		return Errorf(EINVALID, "object must be at most %d characters without ':' or line breaks", MaxActivityObject)
	}
	return nil
}

func activityTxKey(kind string, owner Owner, object string) string {
	return "activity:" + kind + ":" + owner.ID + ":" + object
}

// Record reports an activity: it pays the configured reward unless the
// slot already paid or the cap is reached (then the event is recorded as
// refused). The same key returns the first answer with Replayed set.
func (a *Activities) Record(ctx context.Context, shop Shop, r ActivityRequest) (ActivityEvent, error) {
	if err := r.validate(); err != nil {
		return ActivityEvent{}, err
	}
	var rule *ActivityRule
	for i := range shop.Settings.Activities {
		if shop.Settings.Activities[i].Kind == r.Kind {
			rule = &shop.Settings.Activities[i]
		}
	}
	object := r.Object
	if rule != nil && !rule.PerObject {
		object = ""
	}
	if rule != nil && rule.PerObject && object == "" {
		return ActivityEvent{}, Errorf(EINVALID, "activity %s pays once per object: an object is required (e.g. the product id)", r.Kind)
	}
	if rule != nil {
		if err := CheckScale(shop.Currency, rule.Amount); err != nil {
			return ActivityEvent{}, err
		}
	}
	now := a.now()
	var out ActivityEvent
	var posted bool
	err := a.Store.WithSubject(ctx, shop.ID, r.Owner, func(tx ActivityTx) error {
		posted = false
		prev, ok, err := tx.EventByKey(ctx, r.Key)
		if err != nil {
			return err
		}
		if ok {
			if prev.Kind != r.Kind || prev.Owner != r.Owner || (prev.Object != object && prev.Object != r.Object) {
				return Errorf(ECONFLICT, "idempotency key %q was already used for another activity", r.Key)
			}
			prev.Replayed = true
			out = prev
			return nil
		}
		ev := ActivityEvent{ShopID: shop.ID, Key: r.Key, Kind: r.Kind, Owner: r.Owner, Object: object, Status: ActivityRefused,
			Amount: decimal.Zero, CreatedAt: now}
		switch rule {
		case nil:
			ev.Refusal = RefusedNotConfigured
		default:
			taken, err := tx.SlotTaken(ctx, r.Kind, object)
			if err != nil {
				return err
			}
			if taken {
				ev.Refusal = RefusedAlreadyPaid
				break
			}
			if rule.MaxPerPeriod > 0 {
				n, err := tx.CountSince(ctx, r.Kind, PeriodStart(rule.Period, now, shop.Settings.Location()))
				if err != nil {
					return err
				}
				if n >= rule.MaxPerPeriod {
					ev.Refusal = RefusedCap
					break
				}
			}
			t, err := tx.Post(ctx, Transaction{ShopID: shop.ID, Key: activityTxKey(r.Kind, r.Owner, object),
				Reason: Reason{Kind: ReasonActivity, Rule: r.Kind, Note: object},
				Postings: []Posting{
					{Currency: shop.Currency, Owner: ProgramOwner, Bucket: ProgramIssued, Amount: rule.Amount.Neg()},
					{Currency: shop.Currency, Owner: r.Owner, Bucket: BucketAvailable, Amount: rule.Amount},
				}})
			if err != nil {
				return err
			}
			ev.Status, ev.Currency, ev.Amount, ev.TxID = ActivityRewarded, shop.Currency, rule.Amount, t.ID
			posted = !t.Replayed
		}
		out, err = tx.Insert(ctx, ev)
		return err
	})
	if err != nil {
		return ActivityEvent{}, err
	}
	if posted && a.Notify != nil {
		a.Notify(ctx, shop, []Owner{r.Owner})
	}
	return out, nil
}

// Revoke takes back the reward of the activity reported with key: a
// transaction reversing the reward (pending first, then available; what
// the customer already spent becomes a recorded overdraft). Revoking twice
// returns the first revocation; a refused activity has nothing to revoke.
func (a *Activities) Revoke(ctx context.Context, shop Shop, owner Owner, key string) (ActivityEvent, error) {
	if err := owner.Validate(); err != nil {
		return ActivityEvent{}, err
	}
	now := a.now()
	var out ActivityEvent
	var posted bool
	err := a.Store.WithSubject(ctx, shop.ID, owner, func(tx ActivityTx) error {
		posted = false
		ev, ok, err := tx.EventByKey(ctx, key)
		if err != nil {
			return err
		}
		if !ok || ev.Owner != owner {
			return Errorf(ENOTFOUND, "no activity with idempotency key %q for this subject", key)
		}
		switch ev.Status {
		case ActivityRevoked:
			ev.Replayed = true
			out = ev
			return nil
		case ActivityRefused:
			out = ev
			return nil
		}
		b, err := tx.Funds(ctx, ev.Currency)
		if err != nil {
			return err
		}
		need := ev.Amount
		t := Transaction{ShopID: shop.ID, Key: activityTxKey(ev.Kind, ev.Owner, ev.Object) + ":revoke", Reverses: ev.TxID,
			Reason:   Reason{Kind: ReasonActivityRevoke, Rule: ev.Kind, Note: ev.Object},
			Postings: []Posting{{Currency: ev.Currency, Owner: ProgramOwner, Bucket: ProgramIssued, Amount: need}}}
		for _, src := range []struct {
			b    Bucket
			have decimal.Decimal
		}{{BucketPending, b.Pending}, {BucketAvailable, b.Available}} {
			n := decimal.Min(need, src.have)
			if n.IsPositive() {
				t.Postings = append(t.Postings, Posting{Currency: ev.Currency, Owner: owner, Bucket: src.b, Amount: n.Neg()})
				need = need.Sub(n)
			}
		}
		if need.IsPositive() {
			t.Postings = append(t.Postings, Posting{Currency: ev.Currency, Owner: owner, Bucket: BucketOverdraft, Amount: need.Neg()})
		}
		pt, err := tx.Post(ctx, t)
		if err != nil {
			return err
		}
		if err := tx.MarkRevoked(ctx, ev.ID, pt.ID, now); err != nil {
			return err
		}
		ev.Status, ev.RevokeTxID, ev.RevokedAt = ActivityRevoked, pt.ID, &now
		out = ev
		posted = !pt.Replayed
		return nil
	})
	if err != nil {
		return ActivityEvent{}, err
	}
	if posted && a.Notify != nil {
		a.Notify(ctx, shop, []Owner{owner})
	}
	return out, nil
}
