package core

import "github.com/shopspring/decimal"

// ProgramSummary is what a shop's program shows in one currency, read
// from the program account's bucket balances (the admin report).
type ProgramSummary struct {
	Issued              decimal.Decimal // credit granted to customers and partners
	Redeemed            decimal.Decimal // spent on orders
	Expired             decimal.Decimal // lapsed unused
	VouchersOutstanding decimal.Decimal // turned into voucher codes not yet used or returned
	Adjustments         decimal.Decimal // granted (positive) or taken back by hand
	// Liability is the credit the shop still owes: issued and adjusted,
	// less redeemed and expired; vouchers outstanding are part of it.
	Liability decimal.Decimal
}

// SummarizeProgram computes a currency's ProgramSummary from the program
// account's balances by bucket (as stored: the program side of every
// posting, so credit issued is negative there).
func SummarizeProgram(balances map[Bucket]decimal.Decimal) ProgramSummary {
	issued := balances[ProgramIssued].Neg()
	adjusted := balances[ProgramAdjustments].Neg()
	return ProgramSummary{
		Issued:              issued,
		Redeemed:            balances[ProgramRedeemed],
		Expired:             balances[ProgramExpired],
		VouchersOutstanding: balances[ProgramVouchers],
		Adjustments:         adjusted,
		Liability:           issued.Add(adjusted).Sub(balances[ProgramRedeemed]).Sub(balances[ProgramExpired]),
	}
}
