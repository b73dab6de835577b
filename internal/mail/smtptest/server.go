// Package smtptest runs a real SMTP server in the test process (emersion's
// go-smtp on 127.0.0.1): it records what it accepts, and can be made to
// refuse mail, reject recipients, require authentication and TLS, stall
// after receiving a message, or go down and come back on the same address.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From      string   // envelope sender
	To        []string // envelope recipients
	Data      []byte   // the message as received
	Header    mail.Header
	MessageID string
	Username  string // who authenticated, if anyone
	TLS       bool   // whether the session was encrypted
}

// Subject decodes the Subject header.
func (m Message) Subject() string {
	s, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		return m.Header.Get("Subject")
	}
	return s
}

// Options configure a server.
type Options struct {
	// TLS, when set, offers STARTTLS, or with Implicit serves TLS from the
	// first byte.
	TLS      *tls.Config
	Implicit bool
	// NoSTARTTLS serves plain text only even if TLS is set.
	NoSTARTTLS bool
	// Username and Password, when set, are required (AUTH PLAIN).
	Username, Password string
	// AllowInsecureAuth offers AUTH on unencrypted connections too.
	AllowInsecureAuth bool
}

// Server is a running test SMTP server.
type Server struct {
	t    testing.TB
	opts Options
	addr string

	mu         sync.Mutex
	srv        *smtp.Server
	listener   net.Listener
	messages   []Message
	mailErr    *smtp.SMTPError
	rcptErr    map[string]*smtp.SMTPError
	received   chan struct{} // closed and replaced at every accepted message
	connection int
	stall      chan struct{} // non-nil while messages are held; closed to release them
	stalled    int           // messages held so far
	hangUps    int           // held messages whose client hung up
	stallSeen  chan struct{} // closed and replaced at every held message
}

// Start runs a server on 127.0.0.1 with a free port, stopped when the test
// ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{t: t, opts: opts, rcptErr: map[string]*smtp.SMTPError{}, received: make(chan struct{}), stallSeen: make(chan struct{})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s.addr = l.Addr().String()
	s.serve(l)
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) serve(l net.Listener) {
	srv := smtp.NewServer(&backend{s: s})
	srv.Addr = s.addr
	srv.Domain = "smtptest.local"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = discardLogger{}
	srv.AllowInsecureAuth = s.opts.AllowInsecureAuth
	if s.opts.TLS != nil && !s.opts.NoSTARTTLS {
		srv.TLSConfig = s.opts.TLS
	}
	if s.opts.TLS != nil && s.opts.Implicit {
		srv.TLSConfig = nil
		l = tls.NewListener(l, s.opts.TLS)
	}
	s.mu.Lock()
	s.srv, s.listener = srv, l
	s.mu.Unlock()
	go func() { _ = srv.Serve(l) }()
}

// Addr is host:port.
func (s *Server) Addr() string { return s.addr }

// Host is the address the server listens on.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.addr); return h }

// Port is the port the server listens on.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// Stop closes the server and every connection: connections are refused
// until Restart. Held messages are released.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, l := s.srv, s.listener
	s.srv, s.listener = nil, nil
	if s.stall != nil {
		close(s.stall)
		s.stall = nil
	}
	s.mu.Unlock()
	if srv != nil {
		// The listener is closed here too: Serve may not have registered it
		// with the server yet.
		_ = l.Close()
		_ = srv.Close()
	}
}

// Restart serves again on the same address.
func (s *Server) Restart() {
	s.t.Helper()
	var l net.Listener
	var err error
	// The port was ours a moment ago; retry briefly in case the kernel is
	// still releasing it.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if l, err = net.Listen("tcp", s.addr); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("smtptest: listen again on %s: %v", s.addr, err)
	}
	s.serve(l)
}

// FailMail makes the server answer every MAIL FROM with code and text
// (e.g. 421 or 451 for a temporary failure); code 0 accepts mail again.
func (s *Server) FailMail(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mailErr = nil
	if code != 0 {
		s.mailErr = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: text}
	}
}

// RejectRecipient makes the server refuse RCPT TO addr with code (e.g. 550
// for "no such user"); code 0 accepts the address again.
func (s *Server) RejectRecipient(addr string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rcptErr, strings.ToLower(addr))
	if code != 0 {
		s.rcptErr[strings.ToLower(addr)] = &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user here"}
	}
}

// StallData makes the server read each message to its end and then hold
// it, answering nothing, as a server that hangs at the worst moment does:
// the client cannot know whether its message got through. Calling release
// lets the held sessions go on, accepting their messages, and the server
// answer at once again; a message whose client hung up meanwhile is never
// accepted.
func (s *Server) StallData() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stall == nil {
		s.stall = make(chan struct{})
	}
	ch := s.stall
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.stall == ch {
			close(ch)
			s.stall = nil
		}
	}
}

// WaitStalled waits until at least n messages were held; the test fails if
// that takes longer than timeout.
func (s *Server) WaitStalled(n int, timeout time.Duration) {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, ch := s.stalled, s.stallSeen
		s.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.t.Fatalf("smtptest: %d messages held after %v, want %d", got, timeout, n)
			return
		}
	}
}

// HungUp counts the held messages whose client closed the connection while
// waiting for the answer.
func (s *Server) HungUp() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hangUps
}

// Messages returns the accepted messages, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Connections counts the sessions opened so far.
func (s *Server) Connections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.connection
}

// WaitFor waits until at least n messages were accepted and returns them;
// the test fails if that takes longer than timeout.
func (s *Server) WaitFor(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		got, ch := len(s.messages), s.received
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-ch:
		case <-deadline.C:
			s.t.Fatalf("smtptest: %d messages received after %v, want %d", got, timeout, n)
			return nil
		}
	}
}

type backend struct{ s *Server }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	b.s.mu.Lock()
	b.s.connection++
	b.s.mu.Unlock()
	_, isTLS := c.TLSConnectionState()
	return &session{s: b.s, conn: c, tls: isTLS}, nil
}

type session struct {
	s        *Server
	conn     *smtp.Conn
	tls      bool
	username string
	from     string
	to       []string
}

func (se *session) AuthMechanisms() []string {
	if se.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (se *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != se.s.opts.Username || password != se.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		se.username = username
		return nil
	}), nil
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.s.opts.Username != "" && se.username == "" {
		return smtp.ErrAuthRequired
	}
	se.s.mu.Lock()
	err := se.s.mailErr
	se.s.mu.Unlock()
	if err != nil {
		return err
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.s.mu.Lock()
	err := se.s.rcptErr[strings.ToLower(to)]
	se.s.mu.Unlock()
	if err != nil {
		return err
	}
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if se.holdUntilReleased() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "the client hung up"}
	}
	m := Message{From: se.from, To: se.to, Data: data, Username: se.username}
	if _, ok := se.conn.TLSConnectionState(); ok || se.tls {
		m.TLS = true
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparsable message: " + err.Error()}
	}
	m.Header = parsed.Header
	m.MessageID = parsed.Header.Get("Message-Id")
	se.s.mu.Lock()
	se.s.messages = append(se.s.messages, m)
	close(se.s.received)
	se.s.received = make(chan struct{})
	se.s.mu.Unlock()
	return nil
}

// holdUntilReleased waits, while the server is stalling, until it is
// released or the client hangs up, and reports whether the client hung up.
func (se *session) holdUntilReleased() (hungUp bool) {
	se.s.mu.Lock()
	release := se.s.stall
	if release == nil {
		se.s.mu.Unlock()
		return false
	}
	se.s.stalled++
	close(se.s.stallSeen)
	se.s.stallSeen = make(chan struct{})
	se.s.mu.Unlock()

	// A client waiting for the answer sends nothing, so a read on the
	// connection returns only once the client hangs up (or the read is
	// cut short below, on release).
	nc := se.conn.Conn()
	gone := make(chan bool, 1)
	_ = nc.SetReadDeadline(time.Time{})
	go func() {
		var b [1]byte
		_, err := nc.Read(b[:])
		var ne net.Error
		gone <- !(errors.As(err, &ne) && ne.Timeout())
	}()
	select {
	case <-release:
		_ = nc.SetReadDeadline(time.Now()) // end the read; go-smtp sets its own deadline again
		hungUp = <-gone
	case hungUp = <-gone:
	}
	if hungUp {
		se.s.mu.Lock()
		se.s.hangUps++
		se.s.mu.Unlock()
	}
	return hungUp
}

func (se *session) Reset()        { se.from, se.to = "", nil }
func (se *session) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// SelfSigned returns a server TLS configuration for 127.0.0.1 and
// localhost, and the pool a client needs to trust it.
func SelfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}, pool
}
