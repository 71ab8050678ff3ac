package core

import (
	"errors"
	"fmt"
)

// Error codes. They are mapped to HTTP statuses in exactly one place
// (adapters/httpapi) and to exit codes by the CLI.
const (
	ECONFLICT     = "conflict"     // idempotency key reused with other content, state clash
	EINTERNAL     = "internal"     // anything unexpected; never shown to clients
	EINVALID      = "invalid"      // validation failed
	ENOTFOUND     = "not_found"    // entity does not exist (or belongs to another shop)
	EUNAUTHORIZED = "unauthorized" // missing or bad credentials/signature
	EINSUFFICIENT = "insufficient" // not enough available credit
	ETOOLARGE     = "too_large"    // request body above the limit
)

// Error is an application error with a code safe to show to clients.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("creditbridge error: code=%s message=%s", e.Code, e.Message)
}

// Errorf builds an *Error.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or
// EINTERNAL for any other non-nil error.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	case isDataException(err):
		return EINVALID
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of err.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	case isDataException(err):
		return "the input contains a value the database cannot store (a NUL character, an invalid encoding or a number out of range)"
	}
	return "Internal error."
}

// ErrDuplicateEvent is returned when a platform event was already stored.
var ErrDuplicateEvent = errors.New("duplicate event")
