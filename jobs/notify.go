package jobs

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/creditbridge/creditbridge/adapters/mail"
	"github.com/creditbridge/creditbridge/core"
	"github.com/hibiken/asynq"
)

// TypeDeliverNotification delivers one notification on one channel.
const TypeDeliverNotification = "notify:deliver"

// NotifyMaxRetry bounds the retries of one delivery: with RetryDelay's
// backoff (doubling from 1-2 s, at most 10 minutes apart) the last one
// comes two to four hours after the first attempt.
const NotifyMaxRetry = 30

// NotifyStore is the notification outbox (postgres.NotifyStore).
type NotifyStore interface {
	Derive(ctx context.Context, shop core.Shop, before time.Time, limit int) ([]core.DeliveryRef, error)
	ScanReminders(ctx context.Context, shop core.Shop, now time.Time) ([]core.DeliveryRef, error)
	PendingDeliveries(ctx context.Context, olderThan time.Time, limit int) ([]core.DeliveryRef, error)
	Delivery(ctx context.Context, r core.DeliveryRef) (core.Delivery, error)
	MarkDelivery(ctx context.Context, r core.DeliveryRef, status, lastError string) error
}

// DeliveryTaskID is the asynq task id of a delivery: enqueuing it again
// while it waits is a no-op.
func DeliveryTaskID(r core.DeliveryRef) string {
	return "nd:" + strconv.FormatInt(r.ShopID, 10) + ":" + strconv.FormatInt(r.NotificationID, 10) + ":" + r.Channel
}

// EnqueueDeliveries hands deliveries to asynq (existing tasks are kept).
func EnqueueDeliveries(ctx context.Context, c *asynq.Client, queue string, refs []core.DeliveryRef) error {
	for _, r := range refs {
		b, _ := json.Marshal(r)
		_, err := c.EnqueueContext(ctx, asynq.NewTask(TypeDeliverNotification, b), asynq.Queue(queue), asynq.TaskID(DeliveryTaskID(r)),
			asynq.MaxRetry(NotifyMaxRetry), asynq.Timeout(time.Minute))
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("jobs: enqueue delivery: %w", err)
		}
	}
	return nil
}

// Notifier is the periodic job of notifications (issue 11): per shop
// with notifications enabled it turns new ledger transactions into
// notifications, runs the expiring-credit and balance-reminder scans, and
// enqueues the deliveries; it also re-enqueues deliveries a Redis loss
// dropped. A failing shop is logged and skipped.
type Notifier struct {
	Shops  ShopLister
	Store  NotifyStore
	Client *asynq.Client
	Queue  string
	Now    func() time.Time
	// Lag is how old a ledger transaction must be before it is read (a
	// margin for transactions still committing; default 30 s).
	Lag time.Duration
	Log *slog.Logger
}

// Run does one round and returns how many deliveries it enqueued.
func (n *Notifier) Run(ctx context.Context) (int, error) {
	now := time.Now()
	if n.Now != nil {
		now = n.Now()
	}
	lag := n.Lag
	if lag <= 0 {
		lag = 30 * time.Second
	}
	count := 0
	var failed []error
	if err := EachShop(ctx, n.Shops, n.Log, "notifications", func(ctx context.Context, s core.Shop) error {
		if !s.Settings.Enabled() {
			return nil
		}
		for i := 0; i < 20; i++ { // up to 20,000 transactions a round
			refs, err := n.Store.Derive(ctx, s, now.Add(-lag), 1000)
			if err != nil {
				return err
			}
			if err := EnqueueDeliveries(ctx, n.Client, n.Queue, refs); err != nil {
				return err
			}
			count += len(refs)
			if len(refs) == 0 {
				break
			}
		}
		refs, err := n.Store.ScanReminders(ctx, s, now)
		if err != nil {
			return err
		}
		count += len(refs)
		return EnqueueDeliveries(ctx, n.Client, n.Queue, refs)
	}); err != nil {
		if ctx.Err() != nil {
			return count, ctx.Err()
		}
		failed = append(failed, err)
	}
	stale, err := n.Store.PendingDeliveries(ctx, now.Add(-10*time.Minute), 1000)
	if err == nil {
		err = EnqueueDeliveries(ctx, n.Client, n.Queue, stale)
	}
	if err != nil {
		failed = append(failed, err)
	}
	return count, errors.Join(failed...)
}

// ContactLookup returns what e-mail needs of a customer.
type ContactLookup func(ctx context.Context, shopID int64, owner core.Owner) (core.CustomerContact, error)

// Deliverer is the asynq handler of TypeDeliverNotification: a signed
// POST to the merchant's endpoint, or an e-mail to a consenting customer.
// A failed attempt returns an error, so asynq retries it with backoff; the
// last failed attempt marks the delivery failed. The ledger is never
// touched.
type Deliverer struct {
	Shops interface {
		ShopByID(ctx context.Context, id int64) (core.Shop, error)
	}
	Store    NotifyStore
	HTTP     *http.Client
	Mail     *mail.Sender // optional
	Contacts ContactLookup
	// PublicURL is the bridge's external URL (unsubscribe links).
	PublicURL string
	Now       func() time.Time
	Log       *slog.Logger
}

// WebhookBody is the JSON an endpoint receives.
type WebhookBody struct {
	ID        int64                 `json:"id"`
	Topic     string                `json:"topic"`
	ShopID    int64                 `json:"shop_id"`
	CreatedAt time.Time             `json:"created_at"`
	Data      core.NotificationData `json:"data"`
}

// ProcessTask delivers one notification.
func (d *Deliverer) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var r core.DeliveryRef
	if err := json.Unmarshal(t.Payload(), &r); err != nil || r.NotificationID == 0 {
		return fmt.Errorf("jobs: bad delivery payload: %w", asynq.SkipRetry)
	}
	del, err := d.Store.Delivery(ctx, r)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return nil // the shop was deleted
	}
	if err != nil {
		return err
	}
	if del.Status != core.DeliveryPending {
		return nil
	}
	shop, err := d.Shops.ShopByID(ctx, r.ShopID)
	if core.ErrorCode(err) == core.ENOTFOUND {
		return d.Store.MarkDelivery(ctx, r, core.DeliverySkipped, "shop not found")
	}
	if err != nil {
		return err
	}
	status, derr := d.deliver(ctx, shop, del)
	if derr == nil {
		return d.Store.MarkDelivery(ctx, r, status, "")
	}
	var skip skipError
	if errors.As(derr, &skip) {
		return d.Store.MarkDelivery(ctx, r, core.DeliverySkipped, skip.why)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	final := core.DeliveryPending
	if ok && retried >= maxRetry {
		final = core.DeliveryFailed
	}
	if err := d.Store.MarkDelivery(ctx, r, final, derr.Error()); err != nil {
		return err
	}
	d.Log.Warn("notification delivery failed", slog.Int64("shop", r.ShopID), slog.Int64("notification", r.NotificationID),
		slog.String("channel", r.Channel), slog.Int("attempt", retried+1), slog.Any("error", derr))
	return derr
}

type skipError struct{ why string }

func (s skipError) Error() string { return s.why }

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Deliverer) deliver(ctx context.Context, shop core.Shop, del core.Delivery) (string, error) {
	n := del.Notification
	if del.Channel == core.ChannelEmail {
		return d.email(ctx, shop, n)
	}
	var ep *core.Endpoint
	for i := range shop.Settings.Endpoints {
		if shop.Settings.Endpoints[i].Channel() == del.Channel {
			ep = &shop.Settings.Endpoints[i]
		}
	}
	if ep == nil || !ep.Wants(n.Topic) {
		return "", skipError{"the endpoint was removed or no longer subscribes to " + n.Topic}
	}
	if shop.Secrets.NotifySecret == "" {
		return "", errors.New("the shop has no notification secret yet (POST /api/v1/shops/<id>/notifications/secret)")
	}
	body, _ := json.Marshal(WebhookBody{ID: n.ID, Topic: n.Topic, ShopID: shop.ID, CreatedAt: n.CreatedAt.UTC(), Data: n.Data})
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return "", skipError{"bad endpoint URL"}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "creditbridge-webhooks/1")
	req.Header.Set("X-Creditbridge-Topic", n.Topic)
	req.Header.Set("X-Creditbridge-Delivery", strconv.FormatInt(n.ID, 10))
	req.Header.Set(core.SignatureHeader, core.SignWebhook(shop.Secrets.NotifySecret, d.now(), body))
	c := d.HTTP
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", redactURL(ep.URL), errors.Unwrap(err))
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fmt.Errorf("POST %s: HTTP %d", redactURL(ep.URL), resp.StatusCode)
	}
	return core.DeliveryDelivered, nil
}

// redactURL keeps scheme, host and path (no query: it may carry tokens).
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "endpoint"
	}
	return u.Scheme + "://" + u.Host + u.Path
}

func (d *Deliverer) email(ctx context.Context, shop core.Shop, n core.Notification) (string, error) {
	if d.Mail == nil {
		return "", skipError{"e-mail is not configured (SMTP_HOST)"}
	}
	if n.Owner.Kind != core.OwnerCustomer || d.Contacts == nil {
		return "", skipError{"not a customer"}
	}
	c, err := d.Contacts(ctx, shop.ID, n.Owner)
	if err != nil {
		return "", err
	}
	if c.Consent == nil || !*c.Consent {
		return "", skipError{"no marketing consent reported by the platform"}
	}
	if c.Email == "" {
		return "", skipError{"no e-mail address"}
	}
	locale := c.Locale
	if locale == "" {
		locale = shop.Settings.Locale
	}
	err = d.Mail.Send(ctx, mail.Message{To: c.Email, Locale: locale, TimeZone: shop.Settings.TimeZone, ShopName: shop.Name, Topic: n.Topic, Data: n.Data,
		Unsubscribe: UnsubscribeURL(d.PublicURL, shop, n.Owner)})
	if core.ErrorCode(err) == core.EINVALID {
		return "", skipError{"the customer's e-mail address is not valid"}
	}
	if err != nil {
		return "", err
	}
	return core.DeliveryDelivered, nil
}

// UnsubscribeURL is the signed one-click unsubscribe link of a customer:
// <public url>/unsubscribe?s=<shop>&c=<owner, base64url>&sig=<hex HMAC with the shop's customer key>.
func UnsubscribeURL(publicURL string, shop core.Shop, owner core.Owner) string {
	c := base64.RawURLEncoding.EncodeToString([]byte(owner.ID))
	return publicURL + "/unsubscribe?s=" + strconv.FormatInt(shop.ID, 10) + "&c=" + c + "&sig=" + UnsubscribeSignature(shop, owner)
}

// UnsubscribeSignature signs an unsubscribe link.
func UnsubscribeSignature(shop core.Shop, owner core.Owner) string {
	return core.SignLink(shop.Secrets.CustomerKey, "unsubscribe:"+strconv.FormatInt(shop.ID, 10)+":"+owner.ID)
}

// RegisterNotify adds the delivery handler to the worker's mux.
func RegisterNotify(mux *asynq.ServeMux, d *Deliverer) {
	mux.Handle(TypeDeliverNotification, d)
}
