package shopifyfake

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Store credit accounts and orders paid with store credit.

type storeCreditAccount struct {
	id       string
	currency string
	balance  decimal.Decimal
	// Credits and debits the bridge made through the API, in order.
	history []StoreCreditTx
}

// StoreCreditTx is one change of a store credit account.
type StoreCreditTx struct {
	Amount    decimal.Decimal // signed
	ExpiresAt string          // credits only, RFC 3339 or empty
	Event     string          // ADJUSTMENT (API), ORDER_PAYMENT, ORDER_REFUND
}

// OrderTransaction is one transaction of a fake order.
type OrderTransaction struct {
	Gateway string // e.g. shopify_store_credit
	Kind    string // SALE, CAPTURE, REFUND, …
	Status  string // SUCCESS, …
	Amount  decimal.Decimal
}

type fakeOrder struct {
	customerGID  string
	currency     string
	transactions []OrderTransaction
}

func (s *Server) account(customerGID, currency string, create bool) *storeCreditAccount {
	byCur := s.storeCredit[customerGID]
	if byCur == nil {
		if !create {
			return nil
		}
		byCur = map[string]*storeCreditAccount{}
		s.storeCredit[customerGID] = byCur
	}
	a := byCur[currency]
	if a == nil && create {
		a = &storeCreditAccount{id: s.newID("StoreCreditAccount"), currency: currency, balance: decimal.Zero}
		byCur[currency] = a
	}
	return a
}

// StoreCredit returns the customer's store credit balance in currency.
func (s *Server) StoreCredit(customerGID, currency string) decimal.Decimal {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.account(customerGID, currency, false); a != nil {
		return a.balance
	}
	return decimal.Zero
}

// StoreCreditHistory returns the changes of the customer's account.
func (s *Server) StoreCreditHistory(customerGID, currency string) []StoreCreditTx {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.account(customerGID, currency, false); a != nil {
		return append([]StoreCreditTx(nil), a.history...)
	}
	return nil
}

// AdjustStoreCredit changes a balance as the merchant would in the
// Shopify admin (outside the bridge).
func (s *Server) AdjustStoreCredit(customerGID, currency string, delta decimal.Decimal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(customerGID, currency, true)
	a.balance = a.balance.Add(delta)
	a.history = append(a.history, StoreCreditTx{Amount: delta, Event: "ADJUSTMENT"})
}

// PayWithStoreCredit simulates a checkout that spends amount of the
// customer's store credit on an order: the balance drops and the order
// gets a successful SALE with gateway shopify_store_credit. It fails the
// test when the balance is too small (Shopify would not offer it).
func (s *Server) PayWithStoreCredit(orderGID, customerGID, currency string, amount decimal.Decimal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(customerGID, currency, false)
	if a == nil || a.balance.LessThan(amount) {
		s.tb.Errorf("shopifyfake: %s cannot pay %s with store credit", customerGID, amount)
		return
	}
	a.balance = a.balance.Sub(amount)
	a.history = append(a.history, StoreCreditTx{Amount: amount.Neg(), Event: "ORDER_PAYMENT"})
	o := s.orderFor(orderGID, customerGID, currency)
	o.transactions = append(o.transactions, OrderTransaction{Gateway: "shopify_store_credit", Kind: "SALE", Status: "SUCCESS", Amount: amount})
}

// RefundToStoreCredit simulates refundCreate with a storeCreditRefund
// method: the customer's balance grows and the order gets a successful
// REFUND with gateway shopify_store_credit.
func (s *Server) RefundToStoreCredit(orderGID, customerGID, currency string, amount decimal.Decimal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.account(customerGID, currency, true)
	a.balance = a.balance.Add(amount)
	a.history = append(a.history, StoreCreditTx{Amount: amount, Event: "ORDER_REFUND"})
	o := s.orderFor(orderGID, customerGID, currency)
	o.transactions = append(o.transactions, OrderTransaction{Gateway: "shopify_store_credit", Kind: "REFUND", Status: "SUCCESS", Amount: amount})
}

// AddOrderTransaction adds any transaction to an order.
func (s *Server) AddOrderTransaction(orderGID, customerGID, currency string, t OrderTransaction) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orderFor(orderGID, customerGID, currency)
	o.transactions = append(o.transactions, t)
}

func (s *Server) orderFor(orderGID, customerGID, currency string) *fakeOrder {
	o := s.orders[orderGID]
	if o == nil {
		o = &fakeOrder{customerGID: customerGID, currency: currency}
		s.orders[orderGID] = o
	}
	return o
}

func money(amount decimal.Decimal, currency string) map[string]any {
	return map[string]any{"__typename": "MoneyV2", "amount": amount.String(), "currencyCode": currency}
}

func (s *Server) customer(gid string) any {
	if !strings.HasPrefix(gid, "gid://shopify/Customer/") {
		return nil
	}
	nodes := []map[string]any{}
	for _, a := range s.storeCredit[gid] {
		nodes = append(nodes, map[string]any{"__typename": "StoreCreditAccount", "id": a.id, "balance": money(a.balance, a.currency)})
	}
	return map[string]any{"__typename": "Customer", "id": gid, "storeCreditAccounts": map[string]any{
		"__typename": "StoreCreditAccountConnection", "nodes": nodes}}
}

func storeCreditError(typename, code, msg string, field ...string) map[string]any {
	return map[string]any{"__typename": typename, "code": code, "message": msg, "field": field}
}

func (s *Server) storeCreditTx(typename string, a *storeCreditAccount, amount decimal.Decimal) map[string]any {
	return map[string]any{"__typename": typename, "id": s.newID(strings.TrimPrefix(typename, "StoreCreditAccount")),
		"amount": money(amount, a.currency), "balanceAfterTransaction": money(a.balance, a.currency),
		"account": map[string]any{"__typename": "StoreCreditAccount", "id": a.id}}
}

// moneyArg reads a MoneyInput (amount as a Decimal string).
func moneyArg(m map[string]any) (decimal.Decimal, string, bool) {
	d, err := decimal.NewFromString(str(m["amount"]))
	return d, str(m["currencyCode"]), err == nil
}

func (s *Server) storeCreditAccountCredit(id string, in map[string]any) any {
	payload := func(tx any, errs ...map[string]any) map[string]any {
		if errs == nil {
			errs = []map[string]any{}
		}
		return map[string]any{"__typename": "StoreCreditAccountCreditPayload", "storeCreditAccountTransaction": tx, "userErrors": errs}
	}
	const ue = "StoreCreditAccountCreditUserError"
	amt, cur, ok := moneyArg(obj(in["creditAmount"]))
	if !ok || !amt.IsPositive() {
		return payload(nil, storeCreditError(ue, "NEGATIVE_OR_ZERO_AMOUNT", "A positive amount must be used to credit a store credit account.", "creditInput", "creditAmount"))
	}
	if !strings.HasPrefix(id, "gid://shopify/Customer/") {
		return payload(nil, storeCreditError(ue, "OWNER_NOT_FOUND", "Owner does not exist.", "id"))
	}
	exp := str(in["expiresAt"])
	if exp != "" {
		t, err := time.Parse(time.RFC3339, exp)
		if err != nil || !t.After(time.Now()) {
			return payload(nil, storeCreditError(ue, "EXPIRES_AT_IN_PAST", "The expiry date must be in the future.", "creditInput", "expiresAt"))
		}
	}
	a := s.account(id, cur, true)
	a.balance = a.balance.Add(amt)
	a.history = append(a.history, StoreCreditTx{Amount: amt, ExpiresAt: exp, Event: "ADJUSTMENT"})
	return payload(s.storeCreditTx("StoreCreditAccountCreditTransaction", a, amt))
}

func (s *Server) storeCreditAccountDebit(id string, in map[string]any) any {
	payload := func(tx any, errs ...map[string]any) map[string]any {
		if errs == nil {
			errs = []map[string]any{}
		}
		return map[string]any{"__typename": "StoreCreditAccountDebitPayload", "storeCreditAccountTransaction": tx, "userErrors": errs}
	}
	const ue = "StoreCreditAccountDebitUserError"
	amt, cur, ok := moneyArg(obj(in["debitAmount"]))
	if !ok || !amt.IsPositive() {
		return payload(nil, storeCreditError(ue, "NEGATIVE_OR_ZERO_AMOUNT", "A positive amount must be used.", "debitInput", "debitAmount"))
	}
	a := s.account(id, cur, false)
	if a == nil {
		return payload(nil, storeCreditError(ue, "ACCOUNT_NOT_FOUND", "The store credit account could not be found.", "id"))
	}
	if a.balance.LessThan(amt) {
		return payload(nil, storeCreditError(ue, "INSUFFICIENT_FUNDS", "The store credit account does not have sufficient funds to satisfy the request.", "debitInput", "debitAmount"))
	}
	a.balance = a.balance.Sub(amt)
	a.history = append(a.history, StoreCreditTx{Amount: amt.Neg(), Event: "ADJUSTMENT"})
	return payload(s.storeCreditTx("StoreCreditAccountDebitTransaction", a, amt))
}

func (s *Server) order(gid string) any {
	o := s.orders[gid]
	if o == nil {
		return nil
	}
	var cust any
	if o.customerGID != "" {
		cust = map[string]any{"__typename": "Customer", "id": o.customerGID}
	}
	txs := []map[string]any{}
	for _, t := range o.transactions {
		txs = append(txs, map[string]any{"__typename": "OrderTransaction", "id": s.newID("OrderTransaction"), "gateway": t.Gateway, "kind": t.Kind,
			"status": t.Status, "amountSet": map[string]any{"__typename": "MoneyBag", "shopMoney": money(t.Amount, o.currency)}})
	}
	return map[string]any{"__typename": "Order", "id": gid, "customer": cust, "transactions": txs}
}
