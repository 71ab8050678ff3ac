// Package postgres implements creditbridge's storage on PostgreSQL with
// pgx: the double-entry ledger (core.Ledger), the webhook inbox, shops and
// credit rules, and the embedded forward-only schema migrations.
//
// All SQL is hand-written. Every table's key starts with the shop id.
package postgres
