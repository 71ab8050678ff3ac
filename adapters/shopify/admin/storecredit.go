package admin

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/shopspring/decimal"

	"github.com/creditbridge/creditbridge/core"
)

// Shopify store credit: each customer has at most one store credit
// account per currency. storeCreditAccountCredit/Debit take the customer
// id and the currency, creating the account on the first credit. Neither
// mutation takes an idempotency key, so the caller (jobs/storecredit.go)
// makes pushes idempotent itself: it records a push before sending it and
// compares Shopify's balance afterwards.

type moneyV2 struct {
	Amount       string `json:"amount"`
	CurrencyCode string `json:"currencyCode"`
}

func (m moneyV2) decimal(cur string) (decimal.Decimal, error) {
	if !strings.EqualFold(m.CurrencyCode, cur) {
		return decimal.Zero, fmt.Errorf("shopify admin: amount in %s, want %s", m.CurrencyCode, cur)
	}
	d, err := decimal.NewFromString(m.Amount)
	if err != nil {
		return decimal.Zero, fmt.Errorf("shopify admin: bad amount %q", m.Amount)
	}
	return d, nil
}

// StoreCreditAccount is a customer's store credit account in one currency.
type StoreCreditAccount struct {
	ID      string
	Balance decimal.Decimal
}

// StoreCreditBalance returns the customer's store credit account in
// currency; found is false when the customer has none (a zero balance).
func (c *Client) StoreCreditBalance(ctx context.Context, customerGID, currency string) (acct StoreCreditAccount, found bool, err error) {
	if err := checkGID(customerGID, customerGIDPrefix); err != nil {
		return acct, false, err
	}
	cur, err := core.NormalizeCurrency(currency)
	if err != nil {
		return acct, false, err
	}
	var out struct {
		Customer *struct {
			Accounts struct {
				Nodes []struct {
					ID      string  `json:"id"`
					Balance moneyV2 `json:"balance"`
				} `json:"nodes"`
			} `json:"storeCreditAccounts"`
		} `json:"customer"`
	}
	if err := c.Do(ctx, StoreCreditAccountsQuery, map[string]any{"id": customerGID}, &out); err != nil {
		return acct, false, err
	}
	if out.Customer == nil {
		return acct, false, core.Errorf(core.ENOTFOUND, "Shopify customer %s not found", customerGID)
	}
	for _, n := range out.Customer.Accounts.Nodes {
		if strings.EqualFold(n.Balance.CurrencyCode, cur) {
			b, err := n.Balance.decimal(cur)
			if err != nil {
				return acct, false, err
			}
			return StoreCreditAccount{ID: n.ID, Balance: b}, true, nil
		}
	}
	return StoreCreditAccount{Balance: decimal.Zero}, false, nil
}

// CreditStoreCredit adds amount (> 0) to the customer's store credit in
// currency, expiring at expiresAt unless it is zero, without notifying
// the customer, and returns the balance after it.
func (c *Client) CreditStoreCredit(ctx context.Context, customerGID string, amount decimal.Decimal, currency string, expiresAt time.Time) (decimal.Decimal, error) {
	cur, money, err := moneyInput(customerGID, amount, currency)
	if err != nil {
		return decimal.Zero, err
	}
	in := map[string]any{"creditAmount": money, "notify": false}
	if !expiresAt.IsZero() {
		in["expiresAt"] = expiresAt.UTC().Format(time.RFC3339)
	}
	var out struct {
		Credit struct {
			Tx *struct {
				BalanceAfter moneyV2 `json:"balanceAfterTransaction"`
			} `json:"storeCreditAccountTransaction"`
		} `json:"storeCreditAccountCredit"`
	}
	if err := c.Do(ctx, StoreCreditAccountCreditMutation, map[string]any{"id": customerGID, "credit": in}, &out); err != nil {
		return decimal.Zero, err
	}
	if out.Credit.Tx == nil {
		return decimal.Zero, fmt.Errorf("shopify admin: storeCreditAccountCredit returned no transaction")
	}
	return out.Credit.Tx.BalanceAfter.decimal(cur)
}

// DebitStoreCredit takes amount (> 0) from the customer's store credit in
// currency and returns the balance after it. Shopify refuses a debit
// above the balance (userErrors code INSUFFICIENT_FUNDS, returned as
// *UserErrors).
func (c *Client) DebitStoreCredit(ctx context.Context, customerGID string, amount decimal.Decimal, currency string) (decimal.Decimal, error) {
	cur, money, err := moneyInput(customerGID, amount, currency)
	if err != nil {
		return decimal.Zero, err
	}
	var out struct {
		Debit struct {
			Tx *struct {
				BalanceAfter moneyV2 `json:"balanceAfterTransaction"`
			} `json:"storeCreditAccountTransaction"`
		} `json:"storeCreditAccountDebit"`
	}
	if err := c.Do(ctx, StoreCreditAccountDebitMutation, map[string]any{"id": customerGID, "debit": map[string]any{"debitAmount": money}}, &out); err != nil {
		return decimal.Zero, err
	}
	if out.Debit.Tx == nil {
		return decimal.Zero, fmt.Errorf("shopify admin: storeCreditAccountDebit returned no transaction")
	}
	return out.Debit.Tx.BalanceAfter.decimal(cur)
}

func moneyInput(customerGID string, amount decimal.Decimal, currency string) (string, map[string]any, error) {
	if err := checkGID(customerGID, customerGIDPrefix); err != nil {
		return "", nil, err
	}
	cur, err := core.NormalizeCurrency(currency)
	if err != nil {
		return "", nil, err
	}
	if err := core.CheckScale(cur, amount); err != nil {
		return "", nil, err
	}
	if !amount.IsPositive() {
		return "", nil, core.Errorf(core.EINVALID, "store credit amount %s must be positive", amount)
	}
	return cur, map[string]any{"amount": core.StringFixedFor(cur, amount), "currencyCode": cur}, nil
}

// OrderStoreCredit is what an order moved in store credit.
type OrderStoreCredit struct {
	CustomerGID string // empty for a guest order
	Spent       decimal.Decimal
	Refunded    decimal.Decimal
}

// OrderStoreCredit sums the order's successful store credit transactions
// (gateway shopify_store_credit) in shop money: sales and captures spent
// it, refunds gave it back.
func (c *Client) OrderStoreCredit(ctx context.Context, orderGID, currency string) (OrderStoreCredit, error) {
	var res OrderStoreCredit
	if err := checkGID(orderGID, "gid://shopify/Order/"); err != nil {
		return res, err
	}
	cur, err := core.NormalizeCurrency(currency)
	if err != nil {
		return res, err
	}
	var out struct {
		Order *struct {
			Customer *struct {
				ID string `json:"id"`
			} `json:"customer"`
			Transactions []struct {
				Gateway   string `json:"gateway"`
				Kind      string `json:"kind"`
				Status    string `json:"status"`
				AmountSet struct {
					ShopMoney moneyV2 `json:"shopMoney"`
				} `json:"amountSet"`
			} `json:"transactions"`
		} `json:"order"`
	}
	if err := c.Do(ctx, OrderTransactionsQuery, map[string]any{"id": orderGID}, &out); err != nil {
		return res, err
	}
	if out.Order == nil {
		return res, core.Errorf(core.ENOTFOUND, "Shopify order %s not found", orderGID)
	}
	if out.Order.Customer != nil {
		res.CustomerGID = out.Order.Customer.ID
	}
	res.Spent, res.Refunded = decimal.Zero, decimal.Zero
	for _, t := range out.Order.Transactions {
		if t.Gateway != core.StoreCreditGateway || t.Status != "SUCCESS" {
			continue
		}
		amt, err := t.AmountSet.ShopMoney.decimal(cur)
		if err != nil {
			return res, err
		}
		switch t.Kind {
		case "SALE", "CAPTURE":
			res.Spent = res.Spent.Add(amt)
		case "REFUND":
			res.Refunded = res.Refunded.Add(amt)
		}
	}
	return res, nil
}
