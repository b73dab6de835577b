package web

import (
	"context"
	"time"
)

// Mailbox is what the web UI needs from the local mailbox, where csphub
// keeps outgoing emails when no SMTP server is configured. cmd/csphub
// adapts the store to it; the web package never sees the store.
//
// Errors follow the domain vocabulary: an error of kind csphub.KindNotFound
// (for example csphub.NotFound("mail")) is shown as 404, csphub.KindInvalid
// (such as a page token that cannot be decoded) as 400, and anything else
// is logged and shown as a generic 500.
type Mailbox interface {
	// ListMail returns up to limit emails, newest first, starting after
	// pageToken ("" for the first page), and the token of the next page,
	// "" when there is none. Tokens are opaque to the web UI (keyset
	// pagination: they encode the position, not an offset).
	ListMail(ctx context.Context, pageToken string, limit int) (mail []MailSummary, next string, err error)

	// GetMail returns one email.
	GetMail(ctx context.Context, id string) (MailMessage, error)
}

// MailSummary is one line of the mailbox list.
type MailSummary struct {
	ID      string
	From    string
	To      []string
	Subject string
	Date    time.Time
}

// MailMessage is one email as the reader sees it. HTMLBody is shown in a
// sandboxed frame under its own restrictive Content-Security-Policy; either
// body may be empty.
type MailMessage struct {
	MailSummary
	TextBody string
	HTMLBody string
}
