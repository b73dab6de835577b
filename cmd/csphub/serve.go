package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"csphub/internal/api"
	"csphub/internal/config"
	"csphub/internal/service"
	"csphub/internal/store"
	"csphub/internal/web"
)

// operatorSeed is the operator organization the first start creates.
var operatorSeed = service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"}

// ServeCmd runs the HTTP server and the workers.
type ServeCmd struct{}

func (ServeCmd) Run(ctx context.Context, env *Env) error { return serve(ctx, env, nil) }

// prepareFunc readies the deployment before it serves (the demo seeds its
// world): it runs once the schema is up to date and the operator
// organization exists, with the base URL the server is reached at, and
// returns what to tell whoever started the server, printed once it listens.
type prepareFunc func(ctx context.Context, svc *service.Service, baseURL string) (notice string, err error)

// serve runs the HTTP server and the workers until ctx ends, after prepare
// when not nil.
func serve(ctx context.Context, env *Env, prepare prepareFunc) error {
	cfg := env.Cfg
	log := newLogger(cfg)
	start := time.Now()
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db, cfg.ShouldMigrate(), log); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	defer ln.Close()
	baseURL := cfg.BaseURL()
	if cfg.PublicURL == "" {
		baseURL = "http://" + ln.Addr().String() // the real port when --listen asked for any
	}
	svc := service.New(db, log, serviceOptions(cfg, baseURL))
	op, created, err := svc.EnsureOperator(ctx, operatorSeed)
	if err != nil {
		return fmt.Errorf("operator organization: %w", err)
	}
	if created {
		log.Info("created the operator organization", "id", op.ID)
	}
	notice := ""
	if prepare != nil {
		if notice, err = prepare(ctx, svc, baseURL); err != nil {
			return err
		}
	}

	sender, err := newSender(cfg, db, log)
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	worker, err := newOutboxWorker(cfg, db, sender, log)
	if err != nil {
		return err
	}

	metrics := api.NewMetrics()
	metrics.Registry.MustRegister(outboxDepthGauge(svc, log))
	mux := http.NewServeMux()
	secure := strings.HasPrefix(baseURL, "https://")
	api.New(mux, api.Options{
		Service: svc, Logger: log, Metrics: metrics, Version: version,
		MaxBodyBytes: cfg.MaxBodyBytes, IdempotencyTTL: cfg.IdempotencyTTL,
		Authenticator: api.Credentials{Service: svc, Secure: secure}, SecureCookies: secure,
	})
	webOpts := web.Options{Logger: log, Service: svc, SecureCookies: secure}
	if cfg.SMTP.Host == "" {
		webOpts.Mailbox, webOpts.MailboxAllowed = mailboxAdapter{svc}, loopbackOnly
	}
	pages, err := web.New(webOpts)
	if err != nil {
		return err
	}
	pages.Register(mux)
	handler := api.Middleware(api.CrossOriginProtection(mux), log, metrics, cfg.MaxBodyBytes)

	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(env.Stdout, "csphub %s listening on http://%s (%s database: %s), ready in %s\n",
		version, ln.Addr(), db.Dialect(), db.Where(), time.Since(start).Round(time.Millisecond))
	if cfg.SMTP.Host == "" {
		fmt.Fprintf(env.Stdout, "no SMTP server configured: emails are kept in the local mailbox at http://%s/mailbox\n", ln.Addr())
	}
	fmt.Fprint(env.Stdout, notice)

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	})
	g.Go(func() error { return runSequencer(gctx, svc, db, log) })
	g.Go(func() error { return worker.Run(gctx) })
	g.Go(func() error {
		return runPeriodic(gctx, time.Hour, func(ctx context.Context) error { _, err := svc.PurgeIdempotency(ctx); return err }, log, "idempotency purge")
	})
	g.Go(func() error {
		return runPeriodic(gctx, time.Minute, func(ctx context.Context) error { _, err := svc.ExpireInvitations(ctx); return err }, log, "invitation expiry")
	})
	g.Go(func() error {
		return runPeriodic(gctx, time.Minute, func(ctx context.Context) error { _, err := svc.ExpireGrants(ctx); return err }, log, "grant expiry")
	})
	g.Go(func() error {
		return runPeriodic(gctx, time.Minute, func(ctx context.Context) error { _, err := svc.ExpireCustomerInvitations(ctx); return err }, log, "customer invitation expiry")
	})
	g.Go(func() error {
		return runPeriodic(gctx, time.Minute, func(ctx context.Context) error { _, err := svc.RenewSubscriptions(ctx); return err }, log, "subscription renewal")
	})
	g.Go(func() error {
		<-gctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownGrace)
		defer cancel()
		log.Info("shutting down")
		return srv.Shutdown(sctx)
	})
	return g.Wait()
}

// prepareSchema migrates when allowed, and otherwise refuses to serve on a
// schema older than this binary.
func prepareSchema(ctx context.Context, db *store.DB, migrate bool, log *slog.Logger) error {
	if migrate {
		applied, err := db.Migrate(ctx)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			log.Info("applied migrations", "versions", applied)
		}
		return nil
	}
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	if !st.UpToDate() {
		return fmt.Errorf("%w (schema at %d, this binary needs %d)", store.ErrSchemaOutdated, st.Current, st.Latest)
	}
	return nil
}

// runSequencer numbers committed events and chains audit records, woken
// after every commit that wrote some and at least every second.
func runSequencer(ctx context.Context, svc *service.Service, db *store.DB, log *slog.Logger) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-db.SequencerWake():
		case <-tick.C:
		}
		if err := svc.SequenceJournal(ctx); err != nil && ctx.Err() == nil {
			log.Error("sequencer", "error", err)
		}
	}
}

func runPeriodic(ctx context.Context, every time.Duration, fn func(context.Context) error, log *slog.Logger, name string) error {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				log.Error(name, "error", err)
			}
		}
	}
}

// serviceOptions are the use cases' options of a server reached at baseURL.
func serviceOptions(cfg *config.Config, baseURL string) service.Options {
	return service.Options{MailServer: mailServer(cfg), BaseURL: baseURL,
		SessionIdle: cfg.SessionIdle, SessionAbsolute: cfg.SessionAbsolute, RelaxMFA: cfg.RelaxMFA,
		SSOAllowPrivateIssuers: cfg.SSOAllowPrivateIssuers,
		PartnerInvitesPerDay:   cfg.PartnerInvitesPerDay, OpenPartnerInvitations: cfg.OpenPartnerInvitations}
}

func mailServer(cfg *config.Config) string {
	if cfg.SMTP.Host == "" {
		return "local mailbox"
	}
	return net.JoinHostPort(cfg.SMTP.Host, strconv.Itoa(cfg.SMTP.Port))
}
