package mail_test

import (
	"strings"
	"testing"

	"github.com/creditbridge/creditbridge/adapters/mail"
	"github.com/creditbridge/creditbridge/core"
	"github.com/shopspring/decimal"
)

// The "tier reached" e-mail in German and English, a move down, the end
// of every tier, and the membership hint.
func TestRenderTierChanged(t *testing.T) {
	t.Parallel()
	cases := []struct {
		locale  string
		data    core.NotificationData
		subject string
		body    string
	}{
		{"de", core.NotificationData{Tier: "Gold", PreviousTier: "Silber"}, "Du hast die Stufe Gold bei Laden erreicht", ""},
		{"en", core.NotificationData{Tier: "Gold", PreviousTier: "Silver"}, "You reached Gold at Laden", ""},
		{"de", core.NotificationData{Tier: "Silber", PreviousTier: "Gold", Lowered: true}, "Deine Stufe bei Laden ist jetzt Silber", ""},
		{"en", core.NotificationData{Tier: "", PreviousTier: "Club"}, "Your Club tier at Laden has ended", ""},
		{"de", core.NotificationData{Tier: "Club", Member: true}, "Du hast die Stufe Club bei Laden erreicht", "Deine Mitgliedschaft gibt dir diese Stufe."},
	}
	for _, c := range cases {
		c.data.Currency, c.data.Amount, c.data.Available = "EUR", decimal.RequireFromString("250"), decimal.RequireFromString("12.5")
		subject, body, err := mail.Render(mail.Message{Locale: c.locale, ShopName: "Laden", Topic: core.TopicTierChanged, Data: c.data, Unsubscribe: "https://x.example/u"})
		if err != nil {
			t.Fatal(err)
		}
		if subject != c.subject || !strings.Contains(body, c.subject+".") || !strings.Contains(body, c.body) || !strings.Contains(body, "https://x.example/u") {
			t.Fatalf("%s %+v:\n%s\n%s", c.locale, c.data, subject, body)
		}
	}
}
