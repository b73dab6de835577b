package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"csphub/internal/demo"
	"csphub/internal/service"
)

// DemoCmd groups the demo world's commands.
type DemoCmd struct {
	Serve DemoServeCmd `cmd:"" default:"withargs" help:"Seed the demo world (once; later runs find it) and serve it as serve does. The default."`
	TOTP  DemoTOTPCmd  `cmd:"" name:"totp" help:"Print the current TOTP code of a demo user, to sign in as them."`
}

// DemoServeCmd seeds the demo world and serves.
type DemoServeCmd struct {
	SeedOnly      bool `name:"seed-only" help:"Seed the demo world and exit, without serving."`
	AllowPostgres bool `name:"allow-postgres" help:"Seed the configured PostgreSQL database. The demo users' password is published: never seed a database real users work in."`
}

func (c DemoServeCmd) Run(ctx context.Context, env *Env) error {
	cfg := env.Cfg
	if !cfg.UsesSQLite() && !c.AllowPostgres {
		return errors.New("the demo world is meant for the embedded SQLite database (--data-dir), and its users' password is published: " +
			"to seed the PostgreSQL database of --database-url anyway, add --allow-postgres")
	}
	if !c.SeedOnly {
		return serve(ctx, env, seedDemo)
	}
	log := newLogger(cfg)
	db, err := openDB(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db, cfg.ShouldMigrate(), log); err != nil {
		return err
	}
	svc := service.New(db, log, serviceOptions(cfg, cfg.BaseURL()))
	if _, _, err := svc.EnsureOperator(ctx, operatorSeed); err != nil {
		return fmt.Errorf("operator organization: %w", err)
	}
	notice, err := seedDemo(ctx, svc, cfg.BaseURL())
	fmt.Fprint(env.Stdout, notice)
	return err
}

// seedDemo seeds the demo world and says how to sign in to it.
func seedDemo(ctx context.Context, svc *service.Service, baseURL string) (string, error) {
	rep, err := demo.Seed(ctx, svc)
	if errors.Is(err, demo.ErrIncomplete) {
		return "", fmt.Errorf("%w: on the embedded database, remove the data directory (--data-dir) and run csphub demo again", err)
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if rep.Created {
		b.WriteString("\nThe demo world is seeded: the emails it sent are in the outbox (and, with no SMTP server, the local mailbox).\n")
	} else {
		b.WriteString("\nThe demo world was seeded already; nothing was changed.\n")
	}
	fmt.Fprintf(&b, "Sign in at %s/signin as any user below; every password is: %s\n", baseURL, rep.Password)
	b.WriteString("Partner and operator users then give a TOTP code: `csphub demo totp EMAIL` prints it (run it with the same database settings).\n")
	b.WriteString("Customer users sign in with their password alone.\n\n")
	emailWidth, rolesWidth := 0, 0
	for _, u := range rep.Users() {
		emailWidth, rolesWidth = max(emailWidth, len(u.Email)), max(rolesWidth, len(strings.Join(u.Roles, ", ")))
	}
	for _, p := range rep.Parties {
		fmt.Fprintf(&b, "%s (%s: %s)\n", p.Name, p.Kind, p.Standing)
		for _, u := range p.Users {
			signIn := "password"
			if u.MFA {
				signIn = "password + TOTP"
			}
			fmt.Fprintf(&b, "  %-*s  %-*s  %s\n", emailWidth, u.Email, rolesWidth, strings.Join(u.Roles, ", "), signIn)
		}
	}
	return b.String(), nil
}

// DemoTOTPCmd prints a demo user's TOTP code.
type DemoTOTPCmd struct {
	Email string `arg:"" help:"Email of a demo user (an address under demo.csphub.example)."`
}

func (c DemoTOTPCmd) Run(ctx context.Context, env *Env) error {
	if !demo.IsDemoEmail(c.Email) {
		return fmt.Errorf("%s is not a demo user: csphub demo totp gives the codes of the demo world's users only (addresses under %s)", c.Email, demo.Domain)
	}
	db, err := openDB(ctx, env.Cfg, newLogger(env.Cfg))
	if err != nil {
		return err
	}
	defer db.Close()
	st, err := db.Status(ctx)
	if err != nil {
		return err
	}
	if st.Current == 0 {
		return fmt.Errorf("no demo world in %s: run csphub demo first", db.Where())
	}
	now := time.Now()
	code, err := demo.Code(ctx, service.New(db, nil, service.Options{}), c.Email, now)
	if err != nil {
		return err
	}
	fmt.Fprintln(env.Stdout, code.Code)
	if now.Before(code.ValidFrom) {
		fmt.Fprintf(env.Stderr, "valid from %s UTC (in %s), ", code.ValidFrom.UTC().Format(time.TimeOnly), code.ValidFrom.Sub(now).Round(time.Second))
	}
	fmt.Fprintf(env.Stderr, "valid until %s UTC (%s left); a code works once\n", code.ValidUntil.UTC().Format(time.TimeOnly),
		code.ValidUntil.Sub(now).Round(time.Second))
	return nil
}
