package mail

import (
	"net/mail"
	"strings"

	"csphub"
)

// Every header value built from data (names, subjects, addresses) is
// checked here: a line break would let the value start a header of its own
// (a Bcc, a second body), and NUL breaks SMTP servers. Values are refused
// rather than cleaned, so that a bad value is reported where it entered.

// checkHeader refuses a header value with CR, LF, NUL or another control
// character.
func checkHeader(field, value string) error {
	for _, r := range value {
		if r == '\r' || r == '\n' || r == 0 || (r < 0x20 && r != '\t') || r == 0x7f {
			return csphub.Invalid(csphub.FieldError{
				Field:   field,
				Code:    "header_injection",
				Message: "must not contain line breaks (CR, LF), NUL or other control characters",
			})
		}
	}
	return nil
}

// checkAddress requires a bare, valid address: jane@example.com, not
// "Jane <jane@example.com>" nor a list.
func checkAddress(field, addr string) error {
	if err := checkHeader(field, addr); err != nil {
		return err
	}
	invalid := csphub.Invalid(csphub.FieldError{Field: field, Code: "invalid_email", Message: "must be one email address, like jane@example.com"})
	if addr == "" || strings.TrimSpace(addr) != addr {
		return invalid
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return invalid
	}
	return nil
}
