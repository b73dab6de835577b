package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"csphub"
)

func sampleMailbox() *memoryMailbox {
	m := &memoryMailbox{}
	base := time.Date(2026, time.March, 4, 9, 0, 0, 0, time.UTC)
	for i, subject := range []string{"Verify your email", "You are invited", "Order completed"} {
		m.add(MailMessage{
			MailSummary: MailSummary{
				From:    "csphub <no-reply@csphub.example>",
				To:      []string{fmt.Sprintf("user%d@contoso.example", i+1)},
				Subject: subject,
				Date:    base.Add(time.Duration(i) * time.Hour),
			},
			TextBody: "Hello,\n\nPlain text of " + subject + ".",
			HTMLBody: `<p>HTML of ` + subject + ` <a href="https://example.com/accept">Accept</a></p>`,
		})
	}
	return m
}

var nextLink = regexp.MustCompile(`<a href="(/mailbox\?page=[^"]+)" rel="next">`)

func TestMailboxListPagesNewestFirst(t *testing.T) {
	s := newTestServer(t, Options{Mailbox: sampleMailbox(), MailboxPageSize: 2})
	first := s.get(t, "/mailbox")
	if first.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", first.StatusCode, first.body)
	}
	if got := first.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
	order := []string{"Order completed", "You are invited"}
	if i, j := strings.Index(first.body, order[0]), strings.Index(first.body, order[1]); i < 0 || j < i {
		t.Errorf("first page not newest first")
	}
	mustContain(t, first.body, "2 emails on this page", `<a href="/mailbox/mail-3">`,
		"March 4, 2026, 11:00 AM UTC", `datetime="2026-03-04T11:00:00Z"`, "user3@contoso.example")
	mustNotContain(t, first.body, "Verify your email", "Newest emails")
	m := nextLink.FindStringSubmatch(first.body)
	if m == nil {
		t.Fatal("no next link")
	}
	second := s.get(t, strings.ReplaceAll(m[1], "&amp;", "&"))
	mustContain(t, second.body, "Verify your email", "1 email on this page", `<a href="/mailbox">Newest emails</a>`)
	mustNotContain(t, second.body, `rel="next"`, "Order completed")
}

func TestMailboxListEmptyAndFrench(t *testing.T) {
	s := newTestServer(t, Options{Mailbox: &memoryMailbox{}})
	res := s.get(t, "/mailbox", "Accept-Language", "fr")
	mustContain(t, res.body, "Aucun e-mail pour l’instant.", `aria-current="page">Boîte aux lettres</a>`)
}

func TestMailboxMessage(t *testing.T) {
	mb := sampleMailbox()
	mb.add(MailMessage{
		MailSummary: MailSummary{ID: "xss", From: "a@b.example", To: []string{"c@d.example"},
			Subject: `<script>alert(1)</script>`, Date: time.Now()},
		TextBody: `<img src=x onerror=alert(1)>`,
	})
	s := newTestServer(t, Options{Mailbox: mb})

	res := s.get(t, "/mailbox/mail-2", "Accept-Language", "fr")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, res.body)
	}
	mustContain(t, res.body,
		"<h1>You are invited</h1>",
		"csphub &lt;no-reply@csphub.example&gt;",
		"user2@contoso.example",
		"4 mars 2026 à 10:00 UTC",
		"Hello,\n\nPlain text of You are invited.",
		`<iframe class="mail-html" src="/mailbox/mail-2/html"`,
		`sandbox="allow-popups allow-popups-to-escape-sandbox"`,
		"<title>You are invited – Boîte aux lettres – csphub</title>",
	)
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}

	// Email content is data, never markup.
	res = s.get(t, "/mailbox/xss")
	mustNotContain(t, res.body, "<script>alert", "<img src=x")
	mustContain(t, res.body, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")
	mustNotContain(t, res.body, "<iframe")
	if res := s.get(t, "/mailbox/xss/html"); res.StatusCode != http.StatusNotFound {
		t.Errorf("HTML of a text-only email: %d", res.StatusCode)
	}

	mb.add(MailMessage{
		MailSummary: MailSummary{ID: "html-only", Date: time.Now()},
		HTMLBody:    "<p>only HTML</p>",
	})
	res = s.get(t, "/mailbox/html-only")
	mustContain(t, res.body, "<h1>(no subject)</h1>", "This email has no text version.", "<iframe")
}

func TestMailboxHTMLBodyIsSandboxed(t *testing.T) {
	s := newTestServer(t, Options{Mailbox: sampleMailbox()})
	res := s.get(t, "/mailbox/mail-1/html")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "sandbox", "form-action 'none'", "frame-ancestors 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "allow-scripts") || strings.Contains(csp, "allow-same-origin") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q lets scripts run", csp)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q", got)
	}
	mustContain(t, res.body, `<base target="_blank">`, `<a href="https://example.com/accept">Accept</a>`)
}

func TestMailboxDisabledOrRefused(t *testing.T) {
	for name, opts := range map[string]Options{
		"no mailbox": {},
		"refused":    {Mailbox: sampleMailbox(), MailboxAllowed: func(*http.Request) bool { return false }},
	} {
		t.Run(name, func(t *testing.T) {
			s := newTestServer(t, opts)
			for _, path := range []string{"/mailbox", "/mailbox/mail-1", "/mailbox/mail-1/html"} {
				if res := s.get(t, path); res.StatusCode != http.StatusNotFound {
					t.Errorf("%s: status %d", path, res.StatusCode)
				}
			}
			mustNotContain(t, s.get(t, "/").body, `href="/mailbox"`)
		})
	}
}

func TestMailboxErrorsShowNoInternals(t *testing.T) {
	mb := sampleMailbox()
	s := newTestServer(t, Options{Mailbox: mb})

	if res := s.get(t, "/mailbox/unknown"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown id: %d", res.StatusCode)
	}
	if res := s.get(t, "/mailbox/"+strings.Repeat("x", maxMailID+1)); res.StatusCode != http.StatusNotFound {
		t.Errorf("oversized id: %d", res.StatusCode)
	}
	if res := s.get(t, "/mailbox?page=no-such-token"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("bad page token: %d", res.StatusCode)
	}
	if res := s.get(t, "/mailbox?page="+url.QueryEscape(strings.Repeat("x", maxPageToken+1))); res.StatusCode != http.StatusBadRequest {
		t.Errorf("oversized page token: %d", res.StatusCode)
	}

	secret := "dial tcp 10.0.0.7:5432: password=hunter2"
	mb.listErr = errors.New(secret)
	mb.getErr = fmt.Errorf("wrapped: %w", errors.New(secret))
	for _, path := range []string{"/mailbox", "/mailbox/mail-1", "/mailbox/mail-1/html"} {
		res := s.get(t, path, "Accept-Language", "fr")
		if res.StatusCode != http.StatusInternalServerError {
			t.Errorf("%s: status %d", path, res.StatusCode)
		}
		mustNotContain(t, res.body, "hunter2", "10.0.0.7", "dial tcp")
		mustContain(t, res.body, "Une erreur est survenue", "Erreur 500")
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s: Cache-Control = %q", path, got)
		}
	}
	if !strings.Contains(s.logs.String(), "hunter2") {
		t.Error("the backend error was not logged")
	}
	mb.getErr = csphub.NotFound("mail")
	if res := s.get(t, "/mailbox/mail-1"); res.StatusCode != http.StatusNotFound {
		t.Errorf("domain not found: %d", res.StatusCode)
	}
}
