// Package mail turns typed messages into rendered emails (text and HTML, in
// English or French) and delivers rendered emails, over SMTP or into the
// local mailbox. Use cases enqueue messages with Enqueue inside their
// transaction; the outbox worker hands them to a Sender after commit.
package mail

import "time"

// Lang is the language a message is written in.
type Lang string

const (
	English Lang = "en"
	French  Lang = "fr"
)

// Languages lists the languages every template is written in.
func Languages() []Lang { return []Lang{English, French} }

// Recipient is who a message goes to, and in which language.
type Recipient struct {
	Address string // a bare address: jane@example.com
	Name    string // display name, may be empty
	Lang    Lang   // empty means English
}

// Message is one typed email. Its type names its template, a pair of files
// templates/<name>.txt.tmpl and templates/<name>.html.tmpl defining the
// subject and the body in every language; the value itself is the data the
// templates read.
type Message interface {
	Template() string
	Recipient() Recipient
}

// SMTPTest is the message an operator sends to check the mail settings.
type SMTPTest struct {
	To          Recipient
	Server      string    // the server the settings name, host:port, or "local mailbox"
	RequestedBy string    // who asked for the test
	RequestedAt time.Time // when
}

func (SMTPTest) Template() string       { return "smtp_test" }
func (m SMTPTest) Recipient() Recipient { return m.To }
