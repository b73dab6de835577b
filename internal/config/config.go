// Package config is csphub's one configuration struct. It is loaded once at
// start (flags over environment over file over defaults), validated, and
// passed explicitly to what needs it.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// Config holds every setting. The struct tags drive the command line, the
// CSPHUB_* environment variables, the configuration file keys, `csphub
// config` and the configuration reference in docs/.
type Config struct {
	DataDir     string `name:"data-dir" env:"CSPHUB_DATA_DIR" default:"./csphub-data" help:"Directory for the embedded SQLite database and local files."`
	DatabaseURL string `name:"database-url" env:"CSPHUB_DATABASE_URL" secret:"" help:"PostgreSQL URL (postgres://user:pass@host/db). Empty: SQLite in the data directory."`
	Listen      string `name:"listen" env:"CSPHUB_LISTEN" default:"127.0.0.1:8080" help:"Address the HTTP server listens on."`
	PublicURL   string `name:"public-url" env:"CSPHUB_PUBLIC_URL" help:"URL users reach csphub at, used in emailed links. Default: http://<listen>."`
	Migrate     *bool  `name:"migrate" env:"CSPHUB_MIGRATE" help:"Apply pending migrations at start. Default: yes on SQLite, no on PostgreSQL."`
	SQLiteSync  string `name:"sqlite-synchronous" env:"CSPHUB_SQLITE_SYNCHRONOUS" default:"FULL" enum:"FULL,NORMAL" help:"SQLite durability: FULL (default) or NORMAL (faster; a power loss may lose the last transactions)."`
	MaxDBConns  int    `name:"max-db-conns" env:"CSPHUB_MAX_DB_CONNS" default:"16" help:"Connections in the database pool (readers on SQLite)."`

	LogLevel  string `name:"log-level" env:"CSPHUB_LOG_LEVEL" default:"info" enum:"debug,info,warn,error" help:"Minimum level of log lines."`
	LogFormat string `name:"log-format" env:"CSPHUB_LOG_FORMAT" default:"text" enum:"text,json" help:"Log line format."`

	MaxBodyBytes   int64         `name:"max-body-bytes" env:"CSPHUB_MAX_BODY_BYTES" default:"1048576" help:"Largest request body accepted, in bytes."`
	IdempotencyTTL time.Duration `name:"idempotency-ttl" env:"CSPHUB_IDEMPOTENCY_TTL" default:"24h" help:"How long an Idempotency-Key replays its response (at least 24h)."`
	ShutdownGrace  time.Duration `name:"shutdown-grace" env:"CSPHUB_SHUTDOWN_GRACE" default:"15s" help:"How long in-flight requests may finish at shutdown."`

	SessionIdle     time.Duration `name:"session-idle" env:"CSPHUB_SESSION_IDLE" default:"8h" help:"A session unused for this long ends."`
	SessionAbsolute time.Duration `name:"session-absolute" env:"CSPHUB_SESSION_ABSOLUTE" default:"168h" help:"Any session ends this long after sign-in."`
	RelaxMFA        bool          `name:"relax-mfa" env:"CSPHUB_RELAX_MFA" help:"Let partner and operator users work without multi-factor authentication (deployment-wide; not recommended)."`
	// Off by default: an organization's admin names the issuer, and must
	// not be able to make csphub probe the network it runs in.
	SSOAllowPrivateIssuers bool `name:"sso-allow-private-issuers" env:"CSPHUB_SSO_ALLOW_PRIVATE_ISSUERS" help:"Let organizations' OpenID providers be on loopback, private or link-local addresses (on-premises providers; plain HTTP on loopback for development)."`

	PartnerInvitesPerDay   int `name:"partner-invites-per-day" env:"CSPHUB_PARTNER_INVITES_PER_DAY" default:"50" help:"Reseller invitations a provider may send per day."`
	OpenPartnerInvitations int `name:"open-partner-invitations" env:"CSPHUB_OPEN_PARTNER_INVITATIONS" default:"1000" help:"Open reseller invitations a provider may have at once."`

	SMTP   SMTP   `embed:"" prefix:"smtp-" group:"Email"`
	Outbox Outbox `embed:"" prefix:"outbox-" group:"Outbox"`
}

// SMTP is where email goes. With no host, messages are kept in the local
// mailbox shown in the web UI.
type SMTP struct {
	Host     string        `name:"host" env:"CSPHUB_SMTP_HOST" help:"SMTP server host. Empty: keep messages in the local mailbox."`
	Port     int           `name:"port" env:"CSPHUB_SMTP_PORT" default:"587" help:"SMTP server port."`
	Username string        `name:"username" env:"CSPHUB_SMTP_USERNAME" help:"SMTP user name (empty: no authentication)."`
	Password string        `name:"password" env:"CSPHUB_SMTP_PASSWORD" secret:"" help:"SMTP password."`
	TLS      string        `name:"tls" env:"CSPHUB_SMTP_TLS" default:"starttls" enum:"none,starttls,tls" help:"none, starttls (required) or tls (implicit)."`
	From     string        `name:"from" env:"CSPHUB_SMTP_FROM" default:"csphub@localhost" help:"Sender address of every message."`
	FromName string        `name:"from-name" env:"CSPHUB_SMTP_FROM_NAME" default:"csphub" help:"Sender display name."`
	Timeout  time.Duration `name:"timeout" env:"CSPHUB_SMTP_TIMEOUT" default:"15s" help:"Connection and command timeout."`
}

// Outbox tunes the workers that deliver email and webhooks.
type Outbox struct {
	Lease       time.Duration `name:"lease" env:"CSPHUB_OUTBOX_LEASE" default:"1m" help:"How long a worker holds a message it is sending before another may take it."`
	MaxAttempts int           `name:"max-attempts" env:"CSPHUB_OUTBOX_MAX_ATTEMPTS" default:"12" help:"Attempts before a message goes to the dead-letter list."`
	BackoffBase time.Duration `name:"backoff-base" env:"CSPHUB_OUTBOX_BACKOFF_BASE" default:"10s" help:"First retry delay; doubles at each attempt."`
	BackoffMax  time.Duration `name:"backoff-max" env:"CSPHUB_OUTBOX_BACKOFF_MAX" default:"1h" help:"Longest retry delay."`
	Poll        time.Duration `name:"poll" env:"CSPHUB_OUTBOX_POLL" default:"2s" help:"How often workers look for due messages when not woken."`
}

// UsesSQLite reports whether the embedded database is in use.
func (c *Config) UsesSQLite() bool { return c.DatabaseURL == "" }

// ShouldMigrate reports whether to migrate at start.
func (c *Config) ShouldMigrate() bool {
	if c.Migrate != nil {
		return *c.Migrate
	}
	return c.UsesSQLite()
}

// BaseURL is the public URL without a trailing slash.
func (c *Config) BaseURL() string {
	if c.PublicURL != "" {
		return strings.TrimRight(c.PublicURL, "/")
	}
	return "http://" + c.Listen
}

// Validate checks every setting and reports all problems at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("--%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if c.DatabaseURL != "" {
		u, err := url.Parse(c.DatabaseURL)
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
			bad("database-url", "must be a PostgreSQL URL like postgres://user:password@host:5432/dbname")
		}
	} else if c.DataDir == "" {
		bad("data-dir", "is required when no --database-url is given")
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "must be host:port, like 127.0.0.1:8080 (%v)", err)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public-url", "must be an absolute http(s) URL")
		}
	}
	if c.MaxDBConns < 1 || c.MaxDBConns > 1000 {
		bad("max-db-conns", "must be between 1 and 1000")
	}
	if c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20 {
		bad("max-body-bytes", "must be between 1024 and 67108864")
	}
	if c.IdempotencyTTL < 24*time.Hour {
		bad("idempotency-ttl", "must be at least 24h, so that clients can retry for a day")
	}
	if c.SessionIdle < time.Minute || c.SessionAbsolute < c.SessionIdle {
		bad("session-idle", "must be at least 1m and no longer than --session-absolute")
	}
	if c.ShutdownGrace < 0 {
		bad("shutdown-grace", "must not be negative")
	}
	if c.PartnerInvitesPerDay < 1 || c.PartnerInvitesPerDay > 100000 {
		bad("partner-invites-per-day", "must be between 1 and 100000")
	}
	if c.OpenPartnerInvitations < 1 || c.OpenPartnerInvitations > 1000000 {
		bad("open-partner-invitations", "must be between 1 and 1000000")
	}
	if c.SMTP.Host != "" {
		if c.SMTP.Port < 1 || c.SMTP.Port > 65535 {
			bad("smtp-port", "must be between 1 and 65535")
		}
		if c.SMTP.Password != "" && c.SMTP.Username == "" {
			bad("smtp-username", "is required with --smtp-password")
		}
	}
	if _, err := mail.ParseAddress(c.SMTP.From); err != nil {
		bad("smtp-from", "must be an email address (%v)", err)
	}
	if c.SMTP.Timeout <= 0 {
		bad("smtp-timeout", "must be positive")
	}
	if c.Outbox.Lease < time.Second {
		bad("outbox-lease", "must be at least 1s")
	}
	if c.Outbox.MaxAttempts < 1 {
		bad("outbox-max-attempts", "must be at least 1")
	}
	if c.Outbox.BackoffBase <= 0 || c.Outbox.BackoffMax < c.Outbox.BackoffBase {
		bad("outbox-backoff-base", "must be positive and no larger than --outbox-backoff-max")
	}
	if c.Outbox.Poll < 10*time.Millisecond {
		bad("outbox-poll", "must be at least 10ms")
	}
	return errors.Join(errs...)
}

// Setting is one effective setting, for `csphub config` and the reference.
type Setting struct {
	Name    string `json:"name"`
	Env     string `json:"env"`
	Value   string `json:"value"`
	Default string `json:"default,omitempty"`
	Help    string `json:"help"`
	Secret  bool   `json:"secret,omitempty"`
}

// Settings lists every setting with its effective value; secrets that are
// set show as "[redacted]", and credentials in URLs are masked.
func (c *Config) Settings() []Setting {
	var out []Setting
	walk(reflect.ValueOf(c).Elem(), "", &out)
	return out
}

func walk(v reflect.Value, prefix string, out *[]Setting) {
	t := v.Type()
	for i := range t.NumField() {
		f, fv := t.Field(i), v.Field(i)
		if _, ok := f.Tag.Lookup("embed"); ok {
			walk(fv, prefix+f.Tag.Get("prefix"), out)
			continue
		}
		s := Setting{Name: prefix + f.Tag.Get("name"), Env: f.Tag.Get("env"), Default: f.Tag.Get("default"), Help: f.Tag.Get("help")}
		_, s.Secret = f.Tag.Lookup("secret")
		s.Value = format(fv)
		if s.Secret && s.Value != "" {
			s.Value = redact(s.Value)
		}
		*out = append(*out, s)
	}
}

func format(v reflect.Value) string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return "(auto)"
		}
		v = v.Elem()
	}
	if d, ok := v.Interface().(time.Duration); ok {
		return d.String()
	}
	return fmt.Sprint(v.Interface())
}

// redact hides a secret. A URL keeps its scheme, host, path and parameter
// names, so that an operator can still see where it points; its password
// and every parameter value are masked.
func redact(v string) string {
	u, err := url.Parse(v)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return "[redacted]"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	q := u.Query()
	for k := range q {
		q[k] = []string{"xxxxx"}
	}
	u.RawQuery = q.Encode()
	return u.String()
}
