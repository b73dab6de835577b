package web

import (
	"context"
	"slices"
	"strconv"
	"sync"

	"csphub"
)

// memoryMailbox is an in-memory Mailbox for tests: newest first, with the
// page token being the id of the last email of the previous page.
type memoryMailbox struct {
	mu      sync.Mutex
	mail    []MailMessage // oldest first
	listErr error
	getErr  error
}

func (m *memoryMailbox) ListMail(_ context.Context, pageToken string, limit int) ([]MailSummary, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.listErr != nil {
		return nil, "", m.listErr
	}
	newest := slices.Clone(m.mail)
	slices.Reverse(newest)
	start := 0
	if pageToken != "" {
		i := slices.IndexFunc(newest, func(msg MailMessage) bool { return msg.ID == pageToken })
		if i < 0 {
			return nil, "", csphub.Invalid(csphub.FieldError{Field: "page_token", Code: "invalid", Message: "bad page token"})
		}
		start = i + 1
	}
	var out []MailSummary
	for _, msg := range newest[start:] {
		if len(out) == limit {
			return out, out[len(out)-1].ID, nil
		}
		out = append(out, msg.MailSummary)
	}
	return out, "", nil
}

func (m *memoryMailbox) GetMail(_ context.Context, id string) (MailMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.getErr != nil {
		return MailMessage{}, m.getErr
	}
	for _, msg := range m.mail {
		if msg.ID == id {
			return msg, nil
		}
	}
	return MailMessage{}, csphub.NotFound("mail")
}

func (m *memoryMailbox) add(msg MailMessage) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if msg.ID == "" {
		msg.ID = "mail-" + strconv.Itoa(len(m.mail)+1)
	}
	m.mail = append(m.mail, msg)
}
