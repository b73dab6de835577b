package main

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"csphub/internal/config"
	"csphub/internal/mail"
	"csphub/internal/outbox"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/web"
)

// newSender returns the SMTP sender, or the local mailbox when no SMTP
// server is configured.
func newSender(cfg *config.Config, db *store.DB, log *slog.Logger) (mail.Sender, error) {
	if cfg.SMTP.Host == "" {
		return mail.NewMailboxSender(db, cfg.SMTP.From, cfg.SMTP.FromName, log)
	}
	return mail.NewSMTPSender(mail.SMTPSettings{
		Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
		TLS: mail.TLSMode(cfg.SMTP.TLS), From: cfg.SMTP.From, FromName: cfg.SMTP.FromName, Timeout: cfg.SMTP.Timeout,
	}, log)
}

func newOutboxWorker(cfg *config.Config, db *store.DB, sender mail.Sender, log *slog.Logger) (*outbox.Worker, error) {
	return outbox.New(outbox.Config{
		DB: db, Sender: sender, Lease: cfg.Outbox.Lease, MaxAttempts: cfg.Outbox.MaxAttempts,
		BackoffBase: cfg.Outbox.BackoffBase, BackoffMax: cfg.Outbox.BackoffMax, PollInterval: cfg.Outbox.Poll,
		SendTimeout: 2 * cfg.SMTP.Timeout, Logger: log,
	})
}

// messageIDHost is the public host name, the right-hand side of every
// Message-ID csphub sends.
func messageIDHost(cfg *config.Config) string {
	u, err := url.Parse(cfg.BaseURL())
	if err != nil || u.Hostname() == "" || net.ParseIP(u.Hostname()) != nil || !strings.Contains(u.Hostname(), ".") {
		return "csphub.localhost"
	}
	return u.Hostname()
}

// mailboxAdapter shows the service's local mailbox to the web pages.
type mailboxAdapter struct{ svc *service.Service }

func (m mailboxAdapter) ListMail(ctx context.Context, pageToken string, limit int) ([]web.MailSummary, string, error) {
	page, err := m.svc.ListMailbox(ctx, pageToken, limit)
	if err != nil {
		return nil, "", err
	}
	out := make([]web.MailSummary, 0, len(page.Items))
	for _, it := range page.Items {
		out = append(out, summary(it))
	}
	return out, page.Next, nil
}

func (m mailboxAdapter) GetMail(ctx context.Context, id string) (web.MailMessage, error) {
	it, err := m.svc.MailboxMessage(ctx, id)
	if err != nil {
		return web.MailMessage{}, err
	}
	return web.MailMessage{MailSummary: summary(it), TextBody: it.Text, HTMLBody: it.HTML}, nil
}

func summary(it service.MailboxMessage) web.MailSummary {
	return web.MailSummary{ID: it.ID, From: it.From, To: strings.Split(it.To, ", "), Subject: it.Subject, Date: it.CreatedAt}
}

// loopbackOnly admits requests from this machine only: the local mailbox
// holds sign-up and invitation links, and is meant for a newcomer running
// csphub on their own computer.
//
// The peer must be loopback, the request must not have come through a proxy
// (which would make every client look local), and the Host must name this
// machine (a hostile page could otherwise reach it by DNS rebinding).
func loopbackOnly(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return false
	}
	if r.Header.Get("Forwarded") != "" || r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	name := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		name = h
	}
	name = strings.Trim(name, "[]")
	if name == "localhost" {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// outboxDepthGauge exports the number of messages waiting for delivery.
func outboxDepthGauge(svc *service.Service, log *slog.Logger) prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "csphub_outbox_depth", Help: "Messages waiting in the outbox for delivery.",
	}, func() float64 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		n, err := svc.OutboxDepth(ctx)
		if err != nil {
			log.Warn("outbox depth", "error", err)
			return -1
		}
		return float64(n)
	})
}
