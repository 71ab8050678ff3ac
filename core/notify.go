package core

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Notifications (issue 11): credit earned, now available, expiring,
// expired, and balance reminders. They are derived from committed ledger
// transactions (and from the expiry and reminder scans) into an outbox,
// and delivered to the merchant's endpoints as signed webhooks and,
// optionally, to consenting customers by e-mail. Delivery never touches
// the ledger: a slow or failing endpoint cannot block or change it.

// Notification topics.
const (
	TopicCreditEarned    = "credit.earned"    // an order or an activity earned credit
	TopicCreditAvailable = "credit.available" // pending credit became available
	TopicCreditExpiring  = "credit.expiring"  // credit expires within expiry_notice_days
	TopicCreditExpired   = "credit.expired"   // credit expired
	TopicBalanceReminder = "balance.reminder" // a balance and no order for reminder_days
	TopicTierChanged     = "tier.changed"     // a customer reached or left a tier (core/tiers.go)
)

// NotificationTopics lists every topic.
var NotificationTopics = []string{TopicCreditEarned, TopicCreditAvailable, TopicCreditExpiring, TopicCreditExpired, TopicBalanceReminder, TopicTierChanged}

// Endpoint is a merchant's webhook endpoint.
type Endpoint struct {
	URL    string   `json:"url"`
	Topics []string `json:"topics,omitempty"` // empty: every topic
}

// Wants reports whether the endpoint subscribes to topic.
func (e Endpoint) Wants(topic string) bool {
	if len(e.Topics) == 0 {
		return true
	}
	for _, t := range e.Topics {
		if t == topic {
			return true
		}
	}
	return false
}

// Channel is the delivery channel name of the endpoint: "webhook:" and
// the first 12 hex digits of the URL's SHA-256 (stable while the URL is).
func (e Endpoint) Channel() string {
	h := sha256.Sum256([]byte(e.URL))
	return "webhook:" + hex.EncodeToString(h[:6])
}

// ChannelEmail is the e-mail delivery channel.
const ChannelEmail = "email"

// NotifySettings are the shop's notification settings (part of
// ProgramSettings).
type NotifySettings struct {
	// Endpoints receive signed webhooks (at most 5).
	Endpoints []Endpoint `json:"notify_endpoints,omitempty"`
	// Email sends notifications to customers who gave marketing consent
	// (needs the SMTP configuration).
	Email bool `json:"notify_email,omitempty"`
	// ReminderDays > 0 reminds customers of their balance after that many
	// days without an order, at most once per ReminderIntervalDays
	// (default 30).
	ReminderDays         int `json:"reminder_days,omitempty"`
	ReminderIntervalDays int `json:"reminder_interval_days,omitempty"`
}

// ReminderInterval is the least time between two reminders of one
// customer.
func (n NotifySettings) ReminderInterval() time.Duration {
	d := n.ReminderIntervalDays
	if d <= 0 {
		d = 30
	}
	return time.Duration(d) * 24 * time.Hour
}

// Enabled reports whether anything is delivered at all.
func (n NotifySettings) Enabled() bool { return len(n.Endpoints) > 0 || n.Email }

// Validate checks the notification settings.
func (n NotifySettings) Validate() error {
	if len(n.Endpoints) > 5 {
		return Errorf(EINVALID, "at most 5 notify_endpoints")
	}
	seen := map[string]bool{}
	for _, e := range n.Endpoints {
		u, err := url.Parse(e.URL)
		if err != nil || u.Host == "" || len(e.URL) > 500 || u.User != nil {
			return Errorf(EINVALID, "notify endpoint %q is not an absolute URL without credentials", e.URL)
		}
		host := u.Hostname()
		loop := host == "localhost" || host == "127.0.0.1" || host == "::1"
		if u.Scheme != "https" && (u.Scheme != "http" || !loop) {
			return Errorf(EINVALID, "notify endpoint %q must use https (http only on localhost)", e.URL)
		}
		if seen[e.URL] {
			return Errorf(EINVALID, "notify endpoint %q is listed twice", e.URL)
		}
		seen[e.URL] = true
		for _, t := range e.Topics {
			known := false
			for _, k := range NotificationTopics {
				known = known || k == t
			}
			if !known {
				return Errorf(EINVALID, "unknown notification topic %q (known: %s)", t, strings.Join(NotificationTopics, ", "))
			}
		}
	}
	if n.ReminderDays < 0 || n.ReminderDays > 3650 {
		return Errorf(EINVALID, "reminder_days must be 0..3650")
	}
	if n.ReminderIntervalDays < 0 || n.ReminderIntervalDays > 3650 {
		return Errorf(EINVALID, "reminder_interval_days must be 0..3650")
	}
	return nil
}

// Notification is one outbox row.
type Notification struct {
	ID        int64            `json:"id"`
	ShopID    int64            `json:"shop_id"`
	Topic     string           `json:"topic"`
	Key       string           `json:"-"` // dedupe key, unique per shop
	Owner     Owner            `json:"-"`
	Data      NotificationData `json:"data"`
	CreatedAt time.Time        `json:"created_at"`
}

// NotificationData is the payload of a notification. Customer is the
// opaque owner id; PlatformCustomerID the platform's id when the owner is
// a registered customer. It never carries e-mail addresses.
type NotificationData struct {
	Customer           string          `json:"customer"`
	PlatformCustomerID string          `json:"platform_customer_id,omitempty"`
	Currency           string          `json:"currency"`
	Amount             decimal.Decimal `json:"amount"`
	Reason             ReasonKind      `json:"reason,omitempty"`
	Activity           string          `json:"activity,omitempty"`
	OrderID            string          `json:"order_id,omitempty"`
	OrderNumber        string          `json:"order_number,omitempty"`
	TransactionID      int64           `json:"transaction_id,omitempty"`
	ExpiresAt          *time.Time      `json:"expires_at,omitempty"`
	Available          decimal.Decimal `json:"available"`
	Pending            decimal.Decimal `json:"pending"`
	// Tier changes (tier.changed): the new tier ("" when the customer left
	// every tier), the previous one, and whether a membership gives it;
	// Amount is then the qualifying amount (spend or credit).
	Tier         string `json:"tier,omitempty"`
	PreviousTier string `json:"previous_tier,omitempty"`
	Member       bool   `json:"member,omitempty"`
	Lowered      bool   `json:"lowered,omitempty"` // a move down

	// MarketingConsent is what the platform reported (nil: nothing), for
	// merchants whose own mailer sends reminders.
	MarketingConsent *bool `json:"marketing_consent,omitempty"`
}

// PlatformCustomerID returns the platform id of a registered customer's
// owner ("c:123" → "123"), empty for guests and partners.
func PlatformCustomerID(o Owner) string {
	if o.Kind != OwnerCustomer {
		return ""
	}
	id, ok := strings.CutPrefix(o.ID, "c:")
	if !ok {
		return ""
	}
	return id
}

// NotificationFor maps a committed ledger transaction seen by one owner
// to its notification topic, or "" when it notifies nothing: earnings
// and activity rewards (credit.earned), maturation (credit.available),
// expiry (credit.expired). Only customers are notified.
func NotificationFor(kind ReasonKind, owner Owner, delta decimal.Decimal) string {
	if owner.Kind != OwnerCustomer {
		return ""
	}
	switch kind {
	case ReasonEarn, ReasonActivity, ReasonReferralReward, ReasonReferralWelcome:
		if delta.IsPositive() {
			return TopicCreditEarned
		}
	case ReasonMature:
		if delta.IsPositive() {
			return TopicCreditAvailable
		}
	case ReasonExpire:
		if delta.IsNegative() {
			return TopicCreditExpired
		}
	}
	return ""
}

// SignatureHeader carries the signature of an outgoing webhook.
const SignatureHeader = "X-Creditbridge-Signature"

// SignWebhook returns the signature header value of an outgoing webhook:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the shop's
// notify secret>".
func SignWebhook(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a signature header (receivers; tests) with a
// tolerance for the timestamp.
func VerifyWebhook(secret, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sig == "" {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want := SignWebhook(secret, time.Unix(sec, 0), body)
	return hmac.Equal([]byte(want), []byte("t="+ts+",v1="+sig))
}

// DeliveryRef names one delivery of a notification on one channel.
type DeliveryRef struct {
	ShopID         int64  `json:"shop_id"`
	NotificationID int64  `json:"notification_id"`
	Channel        string `json:"channel"`
}

// Delivery is a delivery with its notification.
type Delivery struct {
	Notification Notification
	Channel      string
	Status       string
	Attempts     int
	LastError    string
}

// Delivery states: pending until delivered, failed (retries exhausted)
// or skipped (nothing to deliver to: no consent, endpoint removed).
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
	DeliverySkipped   = "skipped"
)

// CustomerContact is what e-mail needs of a customer: the address (empty
// after a redaction), the marketing consent the platform reported (nil:
// nothing) and the language.
type CustomerContact struct {
	Email   string
	Consent *bool
	Locale  string
}

// SignLink signs a link parameter (unsubscribe links) with a shop key:
// hex HMAC-SHA256, truncated to 32 digits.
func SignLink(key, payload string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(payload))
	return hex.EncodeToString(m.Sum(nil))[:32]
}
