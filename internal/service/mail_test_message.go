package service

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"csphub"
	cmail "csphub/internal/mail"
	"csphub/internal/store"
)

// RoleOperatorAdmin administers the deployment.
const RoleOperatorAdmin = csphub.RoleOperatorAdmin

// TestEmailRequest asks for a message that checks the mail settings.
type TestEmailRequest struct {
	To   string `json:"to" doc:"Address to send the test message to" maxLength:"254"`
	Name string `json:"name,omitempty" doc:"Recipient display name" maxLength:"200"`
	Lang string `json:"lang,omitempty" enum:"en,fr" doc:"Language of the message (default en)"`
}

// TestEmail is the queued test message.
type TestEmail struct {
	OutboxID    string    `json:"outbox_id"`
	MessageID   string    `json:"message_id"`
	To          string    `json:"to"`
	Server      string    `json:"server"`
	RequestedAt time.Time `json:"requested_at"`
}

// SendTestEmail queues a message that lets an operator admin check that
// email reaches its recipients. Like every message it goes through the
// outbox: it is sent once the request commits, retried if the server is
// down, and shown in the local mailbox when no SMTP server is configured.
func (s *Service) SendTestEmail(ctx context.Context, actor csphub.Actor, in TestEmailRequest) (TestEmail, error) {
	var fields []csphub.FieldError
	addr, err := mail.ParseAddress(in.To)
	if err != nil || addr.Address != strings.TrimSpace(in.To) {
		fields = append(fields, csphub.FieldError{Field: "to", Code: "invalid_email", Message: "must be a plain email address like jane@example.com"})
	}
	if strings.ContainsAny(in.Name, "\r\n\x00") {
		fields = append(fields, csphub.FieldError{Field: "name", Code: "invalid_characters", Message: "must not contain line breaks"})
	}
	lang := cmail.Lang(in.Lang)
	if lang == "" {
		lang = cmail.English
	}
	if lang != cmail.English && lang != cmail.French {
		fields = append(fields, csphub.FieldError{Field: "lang", Code: "unsupported_language", Message: "must be en or fr"})
	}
	if len(fields) > 0 {
		return TestEmail{}, csphub.Invalid(fields...)
	}
	return write(ctx, s, func(tx *store.Tx) (TestEmail, error) {
		op, err := tx.OperatorOrganization()
		if err != nil {
			return TestEmail{}, err
		}
		if actor.TenantID() != op.ID || !actor.HasRole(RoleOperatorAdmin) {
			return TestEmail{}, csphub.Errorf(csphub.KindForbidden, "operator_admin_required", "only an operator admin can send a test message")
		}
		ref, err := cmail.Enqueue(tx, op.ID, cmail.SMTPTest{
			To:     cmail.Recipient{Address: addr.Address, Name: in.Name, Lang: lang},
			Server: s.opts.MailServer, RequestedBy: actor.ID, RequestedAt: tx.Now(),
		})
		if err != nil {
			return TestEmail{}, err
		}
		out := TestEmail{OutboxID: ref.ID, MessageID: ref.MessageID, To: addr.Address, Server: s.opts.MailServer, RequestedAt: tx.Now()}
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "mail.test", ResourceType: "outbox_message", ResourceID: ref.ID, After: out}); err != nil {
			return TestEmail{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "mail.test_queued", Subject: ref.ID, Data: out}); err != nil {
			return TestEmail{}, err
		}
		return out, nil
	})
}
