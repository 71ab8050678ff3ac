package httpapi

// WooCommerce guest claims (issue 9): a registered customer asks for the
// credit of orders placed as a guest with their address. The bridge
// issues a signed, expiring claim token bound to the shop, the customer
// and the address (as its keyed hash: the token carries no address); the
// plugin mails a link with it to that address through wp_mail; opened by
// the logged-in customer whose account has that address, the plugin sends
// the token back and the bridge moves the guest credit with one ledger
// transfer (Affiliates.ClaimGuest: later refunds of the guest orders
// reverse from the customer, never below zero without a recorded
// overdraft).
//
// Routes (signed by the plugin, pluginAuth):
//
//	POST /api/v1/plugin/customers/:customer/guest-claim          {email} → {token, expires_at}; 404 when that address never earned as a guest
//	POST /api/v1/plugin/customers/:customer/guest-claim/confirm  {token, email} → {account, transaction_ids}

import (
	"crypto/hmac"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/creditbridge/creditbridge/core"
	"github.com/gofiber/fiber/v2"
)

// GuestClaimTTL is how long a guest claim link can be opened.
const GuestClaimTTL = 48 * time.Hour

func init() { extraRouteFuncs = append(extraRouteFuncs, guestClaimRoutes) }

func guestClaimRoutes(s *Server, _ *fiber.App, api fiber.Router) {
	api.Post("/plugin/customers/:customer/guest-claim", s.pluginAuth, s.pluginGuestClaim)
	api.Post("/plugin/customers/:customer/guest-claim/confirm", s.pluginAuth, s.pluginGuestClaimConfirm)
}

// guestClaimKey separates claim tokens from customer tokens signed with
// the same shop key.
func guestClaimKey(shop core.Shop) string { return "guest-claim:v1:" + shop.Secrets.CustomerKey }

// IssueGuestClaimToken returns a claim token for moving the guest credit
// of email to owner, valid until exp.
func IssueGuestClaimToken(shop core.Shop, owner core.Owner, email string, exp time.Time) string {
	payload := "cbg1." + strconv.FormatInt(shop.ID, 10) + "." + base64.RawURLEncoding.EncodeToString([]byte(owner.ID)) + "." +
		strings.TrimPrefix(core.GuestOwnerID(shop.Secrets.CustomerKey, email), "g:") + "." + strconv.FormatInt(exp.Unix(), 10)
	return payload + "." + signCustomer(guestClaimKey(shop), payload)
}

// checkGuestClaimToken verifies a claim token for shop, owner and email
// at now.
func checkGuestClaimToken(shop core.Shop, owner core.Owner, email, tok string, now time.Time) error {
	parts := strings.Split(tok, ".")
	if len(parts) != 6 || parts[0] != "cbg1" || len(tok) > 400 {
		return core.Errorf(core.EINVALID, "malformed confirmation link")
	}
	want := signCustomer(guestClaimKey(shop), strings.Join(parts[:5], "."))
	if !hmac.Equal([]byte(want), []byte(parts[5])) {
		return core.Errorf(core.EUNAUTHORIZED, "invalid confirmation link")
	}
	ownerID, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || parts[1] != strconv.FormatInt(shop.ID, 10) || string(ownerID) != owner.ID {
		return core.Errorf(core.EINVALID, "this confirmation link was sent to another customer")
	}
	if parts[3] != strings.TrimPrefix(core.GuestOwnerID(shop.Secrets.CustomerKey, email), "g:") {
		return core.Errorf(core.EINVALID, "this confirmation link was sent to another e-mail address")
	}
	exp, err := strconv.ParseInt(parts[4], 10, 64)
	if err != nil || now.Unix() > exp {
		return core.Errorf(core.EINVALID, "the confirmation link has expired: ask for a new one")
	}
	return nil
}

type guestClaimRequest struct {
	Email string `json:"email"`
	Token string `json:"token"`
}

func (r guestClaimRequest) valid() error {
	e := core.NormalizeEmail(r.Email)
	if e == "" || len(e) > 254 || !strings.Contains(e, "@") {
		return core.Errorf(core.EINVALID, "email must be an e-mail address")
	}
	return nil
}

func (s *Server) pluginGuestClaim(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	var r guestClaimRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := r.valid(); err != nil {
		return err
	}
	if shop.Secrets.CustomerKey == "" {
		return core.Errorf(core.EINVALID, "the shop has no customer key: register the plugin again")
	}
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	if _, ok, err := s.deps.Store.GuestOwnerFor(ctx, shop, r.Email); err != nil {
		return err
	} else if !ok {
		return core.Errorf(core.ENOTFOUND, "no guest orders for that e-mail")
	}
	exp := time.Now().Add(GuestClaimTTL)
	return c.JSON(fiber.Map{"token": IssueGuestClaimToken(shop, owner, r.Email, exp), "expires_at": exp.UTC().Format(time.RFC3339)})
}

func (s *Server) pluginGuestClaimConfirm(c *fiber.Ctx) error {
	shop, owner, err := pluginCustomer(c)
	if err != nil {
		return err
	}
	var r guestClaimRequest
	if err := decode(c, &r); err != nil {
		return err
	}
	if err := r.valid(); err != nil {
		return err
	}
	if err := checkGuestClaimToken(shop, owner, r.Email, r.Token, time.Now()); err != nil {
		return err
	}
	pid, _ := customerPlatformID(owner)
	ctx, cancel := reqCtx(c, 5*time.Second)
	defer cancel()
	txs, err := s.deps.Store.ClaimGuest(ctx, shop, r.Email, pid, "woocommerce:confirmed-email")
	if err != nil {
		return err
	}
	if len(txs) > 0 && s.deps.Notify != nil {
		s.deps.Notify(ctx, shop, []core.Owner{owner})
	}
	ids := make([]int64, len(txs))
	for i, t := range txs {
		ids[i] = t.ID
	}
	return c.JSON(fiber.Map{"account": owner.ID, "transaction_ids": ids})
}
