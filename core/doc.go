// Package core is the creditbridge domain: the double-entry credit ledger's
// rules, the platform-neutral order snapshot, credit rules and the
// convergence of an order onto its desired credit state.
//
// It imports only the standard library and shopspring/decimal. Storage,
// queues and platforms live in adapters/ and implement the interfaces
// declared here.
package core
