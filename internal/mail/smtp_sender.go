package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"

	"csphub"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode string

const (
	TLSNone     TLSMode = "none"     // plain text; for a relay on the same host
	TLSStartTLS TLSMode = "starttls" // upgrade required: a server without STARTTLS is refused
	TLSImplicit TLSMode = "tls"      // TLS from the first byte (port 465)
)

// SMTPSettings say how to reach the SMTP server and who messages are from.
type SMTPSettings struct {
	Host     string
	Port     int // 0: 587 for starttls, 465 for tls, 25 for none
	Username string
	Password string
	TLS      TLSMode // empty: starttls
	From     string  // bare sender address
	FromName string
	HELO     string // name given in EHLO; empty: this machine's host name
	// Timeout bounds the connection and the session (0: 15s); go-mail
	// restarts it once between the two, so a send given no deadline takes
	// at most about twice this. A send's context deadline bounds it too.
	Timeout time.Duration
	// RootCAs verifies the server's certificate; nil means the system's
	// roots. For servers with a certificate from a private authority.
	RootCAs *x509.CertPool
}

// SMTPSender delivers messages to an SMTP server, one connection per
// message: the outbox sends little mail, and a fresh connection never
// inherits a broken one's state.
type SMTPSender struct {
	s    SMTPSettings
	opts []gomail.Option
	log  *slog.Logger
}

// NewSMTPSender checks the settings and returns a sender.
func NewSMTPSender(s SMTPSettings, logger *slog.Logger) (*SMTPSender, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if s.TLS == "" {
		s.TLS = TLSStartTLS
	}
	if s.Timeout <= 0 {
		s.Timeout = 15 * time.Second
	}
	if s.Port == 0 {
		s.Port = map[TLSMode]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[s.TLS]
	}
	if s.Host == "" || strings.ContainsAny(s.Host, " /\r\n\x00") {
		return nil, fmt.Errorf("smtp host %q is not a host name", s.Host)
	}
	if s.Port < 1 || s.Port > 65535 {
		return nil, fmt.Errorf("smtp port %d is out of range", s.Port)
	}
	if err := checkAddress("smtp_from", s.From); err != nil {
		return nil, fmt.Errorf("smtp from address %q: %w", s.From, err)
	}
	if err := checkHeader("smtp_from_name", s.FromName); err != nil {
		return nil, fmt.Errorf("smtp from name: %w", err)
	}
	if err := checkHeader("smtp_helo", s.HELO); err != nil || strings.Contains(s.HELO, " ") {
		return nil, fmt.Errorf("smtp HELO name %q is not a host name", s.HELO)
	}
	if s.Password != "" && s.Username == "" {
		return nil, fmt.Errorf("an smtp password needs a user name")
	}
	opts := []gomail.Option{
		gomail.WithPort(s.Port),
		gomail.WithTimeout(s.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: s.Host, RootCAs: s.RootCAs, MinVersion: tls.VersionTLS12}),
	}
	switch s.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("smtp TLS mode must be none, starttls or tls, not %q", s.TLS)
	}
	if s.HELO != "" {
		opts = append(opts, gomail.WithHELO(s.HELO))
	}
	if s.Username != "" {
		// Auto-discovery picks the strongest mechanism the server offers and
		// never sends a password in clear over an unencrypted connection.
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(s.Username), gomail.WithPassword(s.Password))
	}
	// Build a client once so that bad settings fail here, at start.
	if _, err := gomail.NewClient(s.Host, opts...); err != nil {
		return nil, fmt.Errorf("smtp settings: %w", err)
	}
	return &SMTPSender{s: s, opts: opts, log: logger}, nil
}

// Server names the server, host:port, for messages to the operator.
func (c *SMTPSender) Server() string { return net.JoinHostPort(c.s.Host, strconv.Itoa(c.s.Port)) }

// Send delivers one message with its stored Message-ID. The deadline of
// ctx is a hard bound: when it passes, the connection is cut whatever the
// session was doing, so that a send never outlives the caller's deadline
// (the outbox lease). Cancelling ctx before the deadline stops the send
// until the message starts going out (connecting, greeting, STARTTLS,
// AUTH); a session past that point is left to finish, since cutting it
// after the server took the message would lose its answer and make the
// outbox send the message again.
func (c *SMTPSender) Send(ctx context.Context, m Outgoing) error {
	if err := m.check(); err != nil {
		return err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(c.s.FromName, c.s.From); err != nil {
		return fmt.Errorf("from: %w", err)
	}
	if err := msg.AddToFormat(m.Email.ToName, m.Email.To); err != nil {
		return csphub.Invalid(csphub.FieldError{Field: "to", Code: "invalid_email", Message: err.Error()})
	}
	msg.Subject(m.Email.Subject)
	msg.SetMessageIDWithValue(strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">"))
	msg.SetDateWithValue(time.Now())
	if m.Email.Lang != "" {
		msg.SetGenHeader(gomail.HeaderContentLang, m.Email.Lang)
	}
	// RFC 3834: an automatic message; out-of-office replies should not answer it.
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetBodyString(gomail.TypeTextPlain, m.Email.Text)
	if m.Email.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.Email.HTML)
	}
	// go-mail heeds ctx only while connecting; after that it blocks for as
	// long as its own deadlines allow. Closing the connection from another
	// goroutine unblocks it at once. Without implicit TLS the raw connection
	// is taken from the dialer, so the greeting, STARTTLS and AUTH can be
	// cut too; with implicit TLS go-mail must dial itself (it only trusts
	// its own TLS dial for choosing a password mechanism), so the session's
	// connection is taken once the dial returns, and a timeout shortened to
	// the deadline bounds what comes before.
	opts := slices.Clone(c.opts)
	var conn cutter
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		left := time.Until(deadline)
		if left <= 0 {
			return fmt.Errorf("smtp %s: not attempted: %w", c.Server(), context.Cause(ctx))
		}
		opts = append(opts, gomail.WithTimeout(min(c.s.Timeout, left)))
		timer := time.AfterFunc(left, func() { conn.cut(context.DeadlineExceeded) })
		defer timer.Stop()
	}
	if c.s.TLS != TLSImplicit {
		opts = append(opts, gomail.WithDialContextFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, network, addr)
			if err == nil {
				conn.set(nc)
			}
			return nc, err
		}))
	}
	defer conn.cut(nil) // QUIT closes the connection, but not if the session failed before it
	client, err := gomail.NewClient(c.s.Host, opts...)
	if err != nil {
		return fmt.Errorf("smtp client: %w", err)
	}
	// cutShort says why a failed session was cut short, or nil. Past the
	// deadline, go-mail's own timeout (shortened to it) may have fired just
	// before the cut: either way the deadline is the cause.
	cutShort := func() error {
		if why := conn.reason(); why != nil {
			return why
		}
		if hasDeadline && !time.Now().Before(deadline) {
			return context.DeadlineExceeded
		}
		return nil
	}
	stopOnCancel := context.AfterFunc(ctx, func() { conn.cut(context.Cause(ctx)) })
	session, err := client.DialToSMTPClientWithContext(ctx)
	stopOnCancel()
	if err != nil {
		if why := cutShort(); why != nil {
			return fmt.Errorf("smtp %s: cut short: %w: %v", c.Server(), why, err)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("smtp %s: %w: %v", c.Server(), context.Cause(ctx), err)
		}
		return fmt.Errorf("smtp %s: %w", c.Server(), err)
	}
	conn.set(session.Text)
	if ctx.Err() != nil {
		return fmt.Errorf("smtp %s: not sent: %w", c.Server(), context.Cause(ctx))
	}
	sendErr := client.SendWithSMTPClient(session, msg)
	quitErr := client.CloseWithSMTPClient(session)
	// Once the server has accepted the message (250 after DATA), a failure
	// of what follows (RSET, QUIT) must not count as a failed delivery: it
	// would make the outbox send the message again.
	if sendErr != nil && !msg.IsDelivered() {
		if why := cutShort(); why != nil {
			// Say so, rather than report the closed connection as the
			// server's refusal (which IsPermanent would take it for).
			return fmt.Errorf("smtp %s: cut short: %w: %v", c.Server(), why, sendErr)
		}
		return fmt.Errorf("smtp %s: %w", c.Server(), sendErr)
	}
	if err := errors.Join(sendErr, quitErr); err != nil {
		c.log.Debug("smtp session ended badly after the message was accepted", "server", c.Server(), "error", err)
	}
	c.log.Debug("email accepted by smtp server", "server", c.Server(), "outbox_id", m.OutboxID,
		"message_id", m.MessageID, "to", m.Email.To, "subject", m.Email.Subject)
	return nil
}

// cutter holds the connection of one send so that another goroutine can cut
// it. Closing a net.Conn (or the textproto.Conn over it) is safe while
// another goroutine reads or writes it; go-mail's own Close is not usable
// here, since it waits for the command in progress.
type cutter struct {
	mu    sync.Mutex
	conns []io.Closer
	done  bool
	why   error // why the send was cut short; nil if it was not
}

// set adds a connection; if the send was already cut, it is closed at once.
func (k *cutter) set(c io.Closer) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.conns = append(k.conns, c)
	if k.done {
		_ = c.Close()
	}
}

// cut closes the connections, now and as they are set. why says why the
// send is cut short; nil is the end of a send that ran its course.
func (k *cutter) cut(why error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.done {
		k.done, k.why = true, why
	}
	for _, c := range k.conns {
		_ = c.Close()
	}
}

// reason reports why the send was cut short, or nil.
func (k *cutter) reason() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.why
}
