package mail

import (
	"context"
	"errors"
	"strings"

	gomail "github.com/wneessen/go-mail"

	"csphub"
	"csphub/internal/store"
)

// Outgoing is one delivery attempt of an outbox email.
type Outgoing struct {
	OutboxID  string
	MessageID string // "<id@host>", fixed when the message was enqueued
	Email     store.Email
}

// Sender delivers rendered emails. Send returning nil means the message was
// accepted (an SMTP 250, or stored in the mailbox).
type Sender interface {
	Send(ctx context.Context, m Outgoing) error
}

// check validates again, at delivery, every value that goes into a header:
// the payload comes from the database, which is not trusted to hold only
// what Render produced.
func (m Outgoing) check() error {
	if err := checkAddress("to", m.Email.To); err != nil {
		return err
	}
	if err := checkHeader("to_name", m.Email.ToName); err != nil {
		return err
	}
	if err := checkHeader("subject", m.Email.Subject); err != nil {
		return err
	}
	if err := checkHeader("message_id", m.MessageID); err != nil {
		return err
	}
	id, ok := strings.CutPrefix(m.MessageID, "<")
	id, ok2 := strings.CutSuffix(id, ">")
	left, right, ok3 := strings.Cut(id, "@")
	if !ok || !ok2 || !ok3 || left == "" || right == "" || strings.ContainsAny(id, "<> \t") || strings.Count(id, "@") != 1 {
		return csphub.Invalid(csphub.FieldError{Field: "message_id", Code: "invalid", Message: "must look like <id@host>"})
	}
	return nil
}

// IsPermanent reports whether a delivery error will recur on retry: the
// server refused the message for good (an SMTP 5xx), or the message itself
// is invalid. Such messages still go through their attempts, in case the
// refusal was a misconfiguration fixed meanwhile, but logs say so.
func IsPermanent(err error) bool {
	if csphub.ErrorKind(err) == csphub.KindInvalid {
		return true
	}
	var se *gomail.SendError
	return errors.As(err, &se) && !se.IsTemp()
}
