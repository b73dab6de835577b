package csphub

import (
	"errors"
	"fmt"
)

// Kind is the small vocabulary every error in csphub maps to. Each kind has
// exactly one HTTP status (see internal/api), so the wire behaviour of an
// error is decided by what it is, never by where it was raised.
type Kind string

const (
	KindInvalid            Kind = "invalid"             // malformed or rule-breaking input
	KindUnauthenticated    Kind = "unauthenticated"     // no or bad credentials
	KindForbidden          Kind = "forbidden"           // own tenant, missing role
	KindNotFound           Kind = "not_found"           // absent, or another tenant's
	KindConflict           Kind = "conflict"            // state conflict, duplicate
	KindPreconditionFailed Kind = "precondition_failed" // stale If-Match
	KindRateLimited        Kind = "rate_limited"        // too many requests
	KindUnprocessable      Kind = "unprocessable"       // valid request that breaks a domain rule
	KindInternal           Kind = "internal"            // anything unexpected
)

// FieldError names one input field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error is a domain error: a kind, a stable machine code (for example
// "relationship_not_active"), a human message safe to show to the caller,
// and optional per-field details.
type Error struct {
	Kind       Kind
	Code       string
	Message    string
	Fields     []FieldError
	RetryAfter int // seconds, for KindRateLimited
	cause      error
}

func (e *Error) Error() string {
	if e.cause != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.cause)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.cause }

// Errorf builds a domain error of the given kind and code.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap attaches an underlying cause that is logged but never shown.
func (e *Error) Wrap(cause error) *Error {
	c := *e
	c.cause = cause
	return &c
}

// NotFound is the answer for anything absent or belonging to another tenant,
// so that existence never leaks across tenants.
func NotFound(resource string) *Error {
	return &Error{Kind: KindNotFound, Code: resource + "_not_found", Message: resource + " not found"}
}

// Invalid reports input that fails validation, field by field.
func Invalid(fields ...FieldError) *Error {
	return &Error{Kind: KindInvalid, Code: "invalid_input", Message: "the request has invalid fields", Fields: fields}
}

// Conflict reports a state conflict with a stable code.
func Conflict(code, message string) *Error {
	return &Error{Kind: KindConflict, Code: code, Message: message}
}

// AsError returns the domain error inside err, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// ErrorKind returns the kind of err; errors that are not domain errors are
// internal.
func ErrorKind(err error) Kind {
	if e := AsError(err); e != nil {
		return e.Kind
	}
	return KindInternal
}
