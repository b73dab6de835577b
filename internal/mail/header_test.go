package mail

import (
	"context"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"csphub"
	"csphub/internal/store"
)

func mapFS(files map[string]string) fs.FS {
	m := fstest.MapFS{}
	for name, data := range files {
		m[name] = &fstest.MapFile{Data: []byte(data)}
	}
	return m
}

var injections = []string{
	"Jane\r\nBcc: victim@example.com",
	"Jane\nBcc: victim@example.com",
	"Jane\rBcc: victim@example.com",
	"Jane\x00",
}

func requireInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e := csphub.AsError(err)
	if e == nil || e.Kind != csphub.KindInvalid || len(e.Fields) != 1 || e.Fields[0].Field != field {
		t.Fatalf("error %v, want invalid input on %q", err, field)
	}
}

// D5: CR, LF or NUL in a name, an address or a subject never reaches a
// header; the message is refused naming the field.
func TestHeaderInjectionIsRefused(t *testing.T) {
	for _, bad := range injections {
		m := smtpTest(English)
		m.To.Name = bad
		_, err := Render(m)
		requireInvalid(t, err, "to_name")

		m = smtpTest(English)
		m.To.Address = "ops@example.com" + bad[4:]
		_, err = Render(m)
		requireInvalid(t, err, "to")

		if _, err := NewSMTPSender(SMTPSettings{Host: "127.0.0.1", From: "noreply@example.com", FromName: bad}, nil); err == nil {
			t.Errorf("from name %q accepted", bad)
		}
		if _, err := NewSMTPSender(SMTPSettings{Host: "127.0.0.1", From: "noreply@example.com" + bad[4:]}, nil); err == nil {
			t.Errorf("from address %q accepted", bad)
		}
	}
}

// The subject is checked after rendering, since data flows into it.
func TestInjectedSubjectIsRefused(t *testing.T) {
	sets, err := loadTemplates(mapFS(map[string]string{
		"templates/layout.txt.tmpl":  `{{define "en.layout"}}{{template "en.body" .Msg}}{{end}}{{define "fr.layout"}}{{template "fr.body" .Msg}}{{end}}`,
		"templates/layout.html.tmpl": `{{define "en.layout"}}{{template "en.body" .Msg}}{{end}}{{define "fr.layout"}}{{template "fr.body" .Msg}}{{end}}`,
		"templates/smtp_test.txt.tmpl": `{{define "en.subject"}}Test by {{.RequestedBy}}{{end}}{{define "fr.subject"}}x{{end}}` +
			`{{define "en.body"}}b{{end}}{{define "fr.body"}}b{{end}}`,
		"templates/smtp_test.html.tmpl": `{{define "en.body"}}b{{end}}{{define "fr.body"}}b{{end}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range injections {
		m := smtpTest(English)
		m.RequestedBy = bad
		_, err := render(sets, m)
		requireInvalid(t, err, "subject")
	}
}

// Whatever the database holds, the senders check every header value again.
func TestSendersRefuseInjectedHeadersFromTheOutbox(t *testing.T) {
	s, err := NewSMTPSender(SMTPSettings{Host: "127.0.0.1", Port: 1, TLS: TLSNone, From: "noreply@example.com"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := store.Email{To: "jane@example.com", ToName: "Jane", Subject: "Hi", Text: "t"}
	cases := map[string]Outgoing{}
	for i, bad := range injections {
		e := good
		e.Subject = bad
		cases["subject"+string(rune('0'+i))] = Outgoing{OutboxID: "x", MessageID: "<a@b>", Email: e}
		e = good
		e.ToName = bad
		cases["name"+string(rune('0'+i))] = Outgoing{OutboxID: "x", MessageID: "<a@b>", Email: e}
		cases["id"+string(rune('0'+i))] = Outgoing{OutboxID: "x", MessageID: "<a@b" + bad + ">", Email: good}
	}
	for name, m := range cases {
		// Port 1 refuses connections: an error other than invalid input
		// would mean the sender tried to send.
		err := s.Send(context.Background(), m)
		if csphub.ErrorKind(err) != csphub.KindInvalid {
			t.Errorf("%s: %v, want invalid input before any connection", name, err)
		}
	}
}

func TestAddressesMustBeOneBareAddress(t *testing.T) {
	for _, addr := range []string{"", "jane", "jane@", "@example.com", "Jane <jane@example.com>",
		"jane@example.com, eve@example.com", " jane@example.com", "jane@example.com "} {
		m := smtpTest(English)
		m.To.Address = addr
		_, err := Render(m)
		requireInvalid(t, err, "to")
	}
	for _, addr := range []string{"jane@example.com", "jane.doe+csp@sub.example.co.uk"} {
		m := smtpTest(English)
		m.To.Address = addr
		if _, err := Render(m); err != nil {
			t.Errorf("%q refused: %v", addr, err)
		}
	}
	if e := csphub.AsError(checkAddress("to", "x")); e == nil || !strings.Contains(e.Fields[0].Message, "email address") {
		t.Error("the address error does not say what is expected")
	}
}
