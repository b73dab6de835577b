package mail

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"csphub"
	"csphub/internal/mail/smtptest"
)

func outgoing(t *testing.T, m Message) Outgoing {
	t.Helper()
	e, err := Render(m)
	if err != nil {
		t.Fatal(err)
	}
	id := csphub.NewID()
	return Outgoing{OutboxID: id, MessageID: "<" + id + "@mail.example.test>", Email: e}
}

func sender(t *testing.T, srv *smtptest.Server, change func(*SMTPSettings)) *SMTPSender {
	t.Helper()
	s := SMTPSettings{Host: srv.Host(), Port: srv.Port(), TLS: TLSNone, From: "noreply@example.com",
		FromName: "csphub Partner Program", HELO: "csphub.test", Timeout: 5 * time.Second}
	if change != nil {
		change(&s)
	}
	c, err := NewSMTPSender(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// bodies returns the decoded text/plain and text/html parts of a message.
func bodies(t *testing.T, m smtptest.Message) (text, html string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("content type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
}

func TestSMTPSenderDeliversWithTheStoredMessageID(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	out := outgoing(t, smtpTest(French))
	if err := sender(t, srv, nil).Send(context.Background(), out); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(1, 10*time.Second)[0]
	if got.MessageID != out.MessageID {
		t.Fatalf("Message-ID %q, want the stored %q", got.MessageID, out.MessageID)
	}
	if got.From != "noreply@example.com" || len(got.To) != 1 || got.To[0] != "ops@example.com" {
		t.Fatalf("envelope from %q to %v", got.From, got.To)
	}
	from, err := got.Header.AddressList("From")
	if err != nil || len(from) != 1 || from[0].Name != "csphub Partner Program" || from[0].Address != "noreply@example.com" {
		t.Fatalf("From %v (%v)", from, err)
	}
	to, err := got.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Océane Martin" || to[0].Address != "ops@example.com" {
		t.Fatalf("To %v (%v)", to, err)
	}
	if got.Subject() != "Test des paramètres de messagerie de csphub" {
		t.Fatalf("Subject %q", got.Subject())
	}
	for header, want := range map[string]string{"Content-Language": "fr", "Auto-Submitted": "auto-generated"} {
		if v := got.Header.Get(header); v != want {
			t.Errorf("%s: %q, want %q", header, v, want)
		}
	}
	if got.Header.Get("Date") == "" {
		t.Error("no Date header")
	}
	text, html := bodies(t, got)
	crlf := strings.NewReplacer("\r\n", "\n")
	if crlf.Replace(text) != out.Email.Text || crlf.Replace(html) != out.Email.HTML {
		t.Fatalf("bodies differ from the rendered ones:\n%q\n%q", text, html)
	}
}

func TestSMTPSenderTLSModes(t *testing.T) {
	serverTLS, roots := smtptest.SelfSigned(t)
	withTLS := func(mode TLSMode, user, password string) func(*SMTPSettings) {
		return func(s *SMTPSettings) { s.TLS, s.RootCAs, s.Username, s.Password = mode, roots, user, password }
	}
	ctx := context.Background()

	t.Run("starttls with authentication", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{TLS: serverTLS, Username: "csphub", Password: "s3cret"})
		if err := sender(t, srv, withTLS(TLSStartTLS, "csphub", "s3cret")).Send(ctx, outgoing(t, smtpTest(English))); err != nil {
			t.Fatal(err)
		}
		got := srv.WaitFor(1, 10*time.Second)[0]
		if !got.TLS || got.Username != "csphub" {
			t.Fatalf("delivered with TLS %v as %q", got.TLS, got.Username)
		}
		if err := sender(t, srv, withTLS(TLSStartTLS, "csphub", "wrong")).Send(ctx, outgoing(t, smtpTest(English))); err == nil {
			t.Fatal("a wrong password was accepted")
		}
	})
	t.Run("implicit tls", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{TLS: serverTLS, Implicit: true})
		if err := sender(t, srv, withTLS(TLSImplicit, "", "")).Send(ctx, outgoing(t, smtpTest(English))); err != nil {
			t.Fatal(err)
		}
		if got := srv.WaitFor(1, 10*time.Second)[0]; !got.TLS {
			t.Fatal("delivered without TLS")
		}
	})
	t.Run("starttls is required, never skipped", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{TLS: serverTLS, NoSTARTTLS: true})
		if err := sender(t, srv, withTLS(TLSStartTLS, "", "")).Send(ctx, outgoing(t, smtpTest(English))); err == nil {
			t.Fatal("sent in clear to a server without STARTTLS")
		}
		if n := len(srv.Messages()); n != 0 {
			t.Fatalf("%d messages received in clear", n)
		}
	})
	t.Run("an untrusted certificate is refused", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{TLS: serverTLS})
		c := sender(t, srv, func(s *SMTPSettings) { s.TLS = TLSStartTLS })
		if err := c.Send(ctx, outgoing(t, smtpTest(English))); err == nil {
			t.Fatal("a self-signed certificate was trusted without being configured")
		}
	})
	t.Run("no password in clear", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.Options{Username: "csphub", Password: "s3cret", AllowInsecureAuth: true})
		if err := sender(t, srv, withTLS(TLSNone, "csphub", "s3cret")).Send(ctx, outgoing(t, smtpTest(English))); err == nil {
			t.Fatal("authenticated with a password over an unencrypted connection")
		}
	})
}

func TestSMTPSenderTellsTemporaryFromPermanentFailures(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	c := sender(t, srv, nil)
	ctx := context.Background()

	srv.FailMail(451, "try again later")
	err := c.Send(ctx, outgoing(t, smtpTest(English)))
	if err == nil || IsPermanent(err) || !strings.Contains(err.Error(), "451") {
		t.Fatalf("451: %v (permanent %v)", err, IsPermanent(err))
	}
	srv.FailMail(0, "")

	srv.RejectRecipient("ops@example.com", 550)
	err = c.Send(ctx, outgoing(t, smtpTest(English)))
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "550") {
		t.Fatalf("550: %v (permanent %v)", err, IsPermanent(err))
	}
	srv.RejectRecipient("ops@example.com", 0)

	srv.Stop()
	err = c.Send(ctx, outgoing(t, smtpTest(English)))
	if err == nil || IsPermanent(err) {
		t.Fatalf("server down: %v (permanent %v)", err, IsPermanent(err))
	}
	srv.Restart()
	if err := c.Send(ctx, outgoing(t, smtpTest(English))); err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if n := len(srv.WaitFor(1, 10*time.Second)); n != 1 {
		t.Fatalf("%d messages received, want only the last", n)
	}
}

func TestSMTPSettingsAreChecked(t *testing.T) {
	for name, s := range map[string]SMTPSettings{
		"no host":           {From: "a@example.com"},
		"bad tls mode":      {Host: "h", From: "a@example.com", TLS: "ssl"},
		"bad port":          {Host: "h", From: "a@example.com", Port: 70000},
		"bad from":          {Host: "h", From: "not an address"},
		"password, no user": {Host: "h", From: "a@example.com", Password: "x"},
		"bad helo":          {Host: "h", From: "a@example.com", HELO: "two words"},
	} {
		if _, err := NewSMTPSender(s, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c, err := NewSMTPSender(SMTPSettings{Host: "smtp.example.com", TLS: TLSImplicit, From: "a@example.com"}, nil)
	if err != nil || c.Server() != "smtp.example.com:465" {
		t.Fatalf("default port for tls: %v %v", c, err)
	}
}

// A send ends at its context's deadline, even when the server hangs after
// taking the message: the connection is cut, no message is accepted, and
// the error says the send was cut short (not that the server refused it).
// Without this, go-mail's own deadlines (the 10s Timeout here) would keep
// the send going past the outbox lease the deadline stands for.
func TestSMTPSenderCutsTheConnectionAtItsDeadline(t *testing.T) {
	serverTLS, roots := smtptest.SelfSigned(t)
	for name, tc := range map[string]struct {
		opts   smtptest.Options
		change func(*SMTPSettings)
	}{
		"plain":        {smtptest.Options{}, nil},
		"starttls":     {smtptest.Options{TLS: serverTLS}, func(s *SMTPSettings) { s.TLS, s.RootCAs = TLSStartTLS, roots }},
		"implicit tls": {smtptest.Options{TLS: serverTLS, Implicit: true}, func(s *SMTPSettings) { s.TLS, s.RootCAs = TLSImplicit, roots }},
	} {
		t.Run(name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.opts)
			c := sender(t, srv, func(s *SMTPSettings) {
				if tc.change != nil {
					tc.change(s)
				}
				s.Timeout = 10 * time.Second
			})
			release := srv.StallData()
			defer release()

			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			began := time.Now()
			err := c.Send(ctx, outgoing(t, smtpTest(English)))
			if took := time.Since(began); took > 3*time.Second {
				t.Fatalf("the send took %v, past its deadline", took)
			}
			if !errors.Is(err, context.DeadlineExceeded) || IsPermanent(err) {
				t.Fatalf("send = %v (permanent %v), want the deadline, temporary", err, IsPermanent(err))
			}
			deadline := time.Now().Add(5 * time.Second)
			for srv.HungUp() < 1 {
				if time.Now().After(deadline) {
					t.Fatal("the server did not see the connection cut while it held the message")
				}
				time.Sleep(10 * time.Millisecond)
			}
			release()
			if n := len(srv.Messages()); n != 0 {
				t.Fatalf("%d messages accepted", n)
			}
		})
	}
}

// Cancelling a send whose message is already going out does not cut it:
// the server may have taken the message, and losing its answer would make
// the outbox send it again. The session finishes (within the deadline, had
// there been one) and reports the delivery.
func TestSMTPSenderFinishesAMessageUnderWayWhenCancelled(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	c := sender(t, srv, nil)
	release := srv.StallData()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := outgoing(t, smtpTest(English))
	done := make(chan error, 1)
	go func() { done <- c.Send(ctx, out) }()
	srv.WaitStalled(1, 10*time.Second)
	cancel()
	select {
	case err := <-done:
		t.Fatalf("the send ended with %v when cancelled mid-message", err)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("send = %v, want delivered", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the send did not finish")
	}
	if got := srv.Messages(); len(got) != 1 || got[0].MessageID != out.MessageID || srv.HungUp() != 0 {
		t.Fatalf("accepted %d messages, %d connections cut", len(got), srv.HungUp())
	}
}

// A send whose context ended before it started opens no connection.
func TestSMTPSenderDoesNotConnectOnceItsContextEnded(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	expired, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	cancelled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	for want, ctx := range map[error]context.Context{context.DeadlineExceeded: expired, context.Canceled: cancelled} {
		if err := sender(t, srv, nil).Send(ctx, outgoing(t, smtpTest(English))); !errors.Is(err, want) {
			t.Fatalf("send = %v, want %v", err, want)
		}
	}
	if n := srv.Connections(); n != 0 {
		t.Fatalf("%d connections opened", n)
	}
}
