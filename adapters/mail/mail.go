// Package mail sends customer notifications (credit earned, available,
// expiring, expired, balance reminders) over SMTP with
// github.com/wneessen/go-mail, in German or English from the i18n
// catalogue, with an unsubscribe link (List-Unsubscribe, one-click).
package mail

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/adapters/i18n"
	"github.com/creditbridge/creditbridge/core"
	gomail "github.com/wneessen/go-mail"
)

// Config is the SMTP configuration.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	// TLS: "starttls" (default, mandatory), "tls" (implicit TLS), "none"
	// (only for a local relay).
	TLS     string
	Timeout time.Duration
}

// Sender sends notification e-mails.
type Sender struct {
	cfg Config
}

// New checks the configuration and returns a sender.
func New(cfg Config) (*Sender, error) {
	if cfg.Host == "" || cfg.From == "" {
		return nil, fmt.Errorf("mail: SMTP host and from address are required")
	}
	switch cfg.TLS {
	case "", "starttls", "tls", "none":
	default:
		return nil, fmt.Errorf("mail: SMTP TLS must be starttls, tls or none")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	return &Sender{cfg: cfg}, nil
}

// Message is one notification for one customer.
type Message struct {
	To          string
	Locale      string // customer's or shop's language ("de", "en-US"…)
	TimeZone    string // shop's time zone for dates
	ShopName    string
	Topic       string
	Data        core.NotificationData
	Unsubscribe string // absolute URL
}

// Render returns the subject and plain-text body of a message.
func Render(m Message) (subject, body string, err error) {
	l := i18n.New(i18n.Match(m.Locale, ""), m.TimeZone)
	amount := l.Money(m.Data.Currency, core.StringFixedFor(m.Data.Currency, m.Data.Amount))
	switch m.Topic {
	case core.TopicCreditEarned, core.TopicCreditAvailable, core.TopicCreditExpired, core.TopicBalanceReminder:
		subject = l.T("mail."+m.Topic, amount, m.ShopName)
	case core.TopicTierChanged:
		subject = tierSubject(l, m)
	case core.TopicCreditExpiring:
		at := ""
		if m.Data.ExpiresAt != nil {
			at = l.Date(*m.Data.ExpiresAt)
		}
		subject = l.T("mail."+m.Topic, amount, m.ShopName, at)
	default:
		return "", "", fmt.Errorf("mail: no template for topic %q", m.Topic)
	}
	var b strings.Builder
	b.WriteString(l.T("mail.hello") + "\n\n" + subject + ".\n\n")
	b.WriteString(l.T("mail.balance", l.Money(m.Data.Currency, core.StringFixedFor(m.Data.Currency, m.Data.Available))) + "\n")
	if m.Topic == core.TopicCreditExpiring {
		b.WriteString(l.T("mail.expiring_hint") + "\n")
	}
	if m.Topic == core.TopicTierChanged && m.Data.Member {
		b.WriteString(l.T("mail.tier.member") + "\n")
	}
	b.WriteString(l.T("stmt.auto") + "\n\n-- \n")
	b.WriteString(l.T("mail.unsubscribe", m.ShopName, m.Unsubscribe) + "\n")
	return subject, b.String(), nil
}

// tierSubject: "tier reached" for an upgrade (or a first tier), "your
// tier is now" for a move down (Data.Lowered), "ended" when the customer
// left every tier.
func tierSubject(l *i18n.Locale, m Message) string {
	switch {
	case m.Data.Tier == "":
		return l.T("mail.tier.ended", m.Data.PreviousTier, m.ShopName)
	case m.Data.Lowered:
		return l.T("mail.tier.lowered", m.ShopName, m.Data.Tier)
	}
	return l.T("mail.tier.reached", m.Data.Tier, m.ShopName)
}

// Send renders and sends a message.
func (s *Sender) Send(ctx context.Context, m Message) error {
	subject, body, err := Render(m)
	if err != nil {
		return err
	}
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return core.Errorf(core.EINVALID, "mail: the customer's address is not valid")
	}
	msg.Subject(subject)
	msg.SetDate()
	msg.SetMessageID()
	if m.Unsubscribe != "" {
		msg.SetGenHeader(gomail.HeaderListUnsubscribe, "<"+m.Unsubscribe+">")
		msg.SetGenHeader(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
	}
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, body)
	opts := []gomail.Option{gomail.WithTimeout(s.cfg.Timeout)}
	if s.cfg.Port > 0 {
		opts = append(opts, gomail.WithPort(s.cfg.Port))
	}
	switch s.cfg.TLS {
	case "tls":
		opts = append(opts, gomail.WithSSL())
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if s.cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthPlain), gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return fmt.Errorf("mail: client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send: %w", err)
	}
	return nil
}
