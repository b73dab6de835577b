package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"text/tabwriter"

	"csphub"
	"csphub/internal/config"
	"csphub/internal/service"
	"csphub/internal/store"
)

// MigrateCmd applies or reports migrations.
type MigrateCmd struct {
	Up     MigrateUpCmd     `cmd:"" default:"1" help:"Apply every pending migration."`
	Status MigrateStatusCmd `cmd:"" help:"Show the applied and the latest schema version."`
}

type MigrateUpCmd struct{}

func (MigrateUpCmd) Run(ctx context.Context, env *Env) error {
	db, err := openDB(ctx, env.Cfg, newLogger(env.Cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx)
	for _, v := range applied {
		fmt.Fprintf(env.Stdout, "applied migration %d\n", v)
	}
	if err != nil {
		return err
	}
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "schema is at version %d (%s, %s)\n", st.Current, db.Dialect(), db.Where())
	return nil
}

type MigrateStatusCmd struct{}

func (MigrateStatusCmd) Run(ctx context.Context, env *Env) error {
	db, err := openDB(ctx, env.Cfg, newLogger(env.Cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	state := "up to date"
	if !st.UpToDate() {
		state = fmt.Sprintf("%d pending: %v", len(st.Pending), st.Pending)
	}
	fmt.Fprintf(env.Stdout, "database: %s (%s)\napplied:  %d\nlatest:   %d\nstatus:   %s\n", db.Where(), db.Dialect(), st.Current, st.Latest, state)
	return nil
}

// ConfigCmd prints the effective configuration.
type ConfigCmd struct {
	JSON bool `name:"json" help:"Print as JSON."`
}

func (c ConfigCmd) Run(env *Env) error {
	settings := env.Cfg.Settings()
	if c.JSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(settings)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SETTING\tVALUE\tENVIRONMENT")
	for _, s := range settings {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, s.Value, s.Env)
	}
	return tw.Flush()
}

// AuditCmd groups the audit log tasks.
type AuditCmd struct {
	Verify AuditVerifyCmd `cmd:"" help:"Verify the audit log's hash chain and report the first broken link."`
}

type AuditVerifyCmd struct{}

func (AuditVerifyCmd) Run(ctx context.Context, env *Env) error {
	db, err := openDB(ctx, env.Cfg, newLogger(env.Cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	v, err := service.New(db, nil, service.Options{}).VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if !v.OK {
		fmt.Fprintf(env.Stdout, "BROKEN at position %d (record %s): %s\n%d records verified before it.\n", v.Position, v.RecordID, v.Problem, v.Checked)
		return fmt.Errorf("the audit log has been tampered with")
	}
	fmt.Fprintf(env.Stdout, "OK: %d records verified", v.Checked)
	if v.Unchained > 0 {
		fmt.Fprintf(env.Stdout, "; %d recent records not chained yet (a running server chains them within seconds)", v.Unchained)
	}
	fmt.Fprintln(env.Stdout)
	return nil
}

// VersionCmd prints the version.
type VersionCmd struct{}

func (VersionCmd) Run(env *Env) error {
	v := version
	if info, ok := debug.ReadBuildInfo(); ok && v == "dev" {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v = "dev-" + s.Value[:12]
			}
		}
	}
	fmt.Fprintf(env.Stdout, "csphub %s\n", v)
	return nil
}

func newLogger(cfg *config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

func openDB(ctx context.Context, cfg *config.Config, log *slog.Logger) (*store.DB, error) {
	return store.Open(ctx, store.Options{
		URL: cfg.DatabaseURL, DataDir: cfg.DataDir, SQLiteSynchronous: cfg.SQLiteSync,
		MaxReaders: cfg.MaxDBConns, Logger: log, MessageIDHost: messageIDHost(cfg),
	})
}

// MailCmd groups the mail tasks.
type MailCmd struct {
	Test MailTestCmd `cmd:"" help:"Queue a test email to check the mail settings; a running server delivers it."`
}

type MailTestCmd struct {
	To   string `arg:"" help:"Recipient address."`
	Lang string `name:"lang" default:"en" enum:"en,fr" help:"Language of the message."`
}

func (c MailTestCmd) Run(ctx context.Context, env *Env) error {
	db, err := openDB(ctx, env.Cfg, newLogger(env.Cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	svc := service.New(db, newLogger(env.Cfg), service.Options{MailServer: mailServer(env.Cfg)})
	op, _, err := svc.OperatorOrganization(ctx)
	if err != nil {
		return err
	}
	actor := csphub.System("cli")
	actor.OrgID, actor.Roles = op.ID, []string{service.RoleOperatorAdmin}
	out, err := svc.SendTestEmail(ctx, actor, service.TestEmailRequest{To: c.To, Lang: c.Lang})
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "queued test message %s to %s via %s; a running `csphub serve` delivers it\n", out.MessageID, out.To, out.Server)
	return nil
}
