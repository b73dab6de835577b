package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"csphub"
	"csphub/internal/service"
)

// OutboxCmd groups the tasks on undelivered messages.
type OutboxCmd struct {
	DeadLetters OutboxDeadLettersCmd `cmd:"" name:"dead-letters" help:"List the messages delivery gave up on, in the order they died."`
	Retry       OutboxRetryCmd       `cmd:"" help:"Queue a dead letter again, once its cause is fixed; a running server delivers it."`
}

type OutboxDeadLettersCmd struct {
	Limit     int    `name:"limit" default:"50" help:"Messages per page (at most 500)."`
	PageToken string `name:"page-token" help:"Where to continue, as printed at the end of the previous page."`
	JSON      bool   `name:"json" help:"Print the page as JSON."`
}

func (c OutboxDeadLettersCmd) Run(ctx context.Context, env *Env) error {
	svc, actor, closeDB, err := operatorService(ctx, env)
	if err != nil {
		return err
	}
	defer closeDB()
	page, err := svc.ListDeadLetters(ctx, actor, c.PageToken, c.Limit)
	if err != nil {
		return err
	}
	if c.JSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(page)
	}
	if len(page.Items) == 0 && c.PageToken == "" {
		fmt.Fprintln(env.Stdout, "no dead letters: every message was delivered or is still being tried")
		return nil
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTO\tTEMPLATE\tSUBJECT\tATTEMPTS\tLAST ERROR\tDIED AT")
	for _, d := range page.Items {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.ID, cell(d.To, 40), cell(d.Template, 24), cell(d.Subject, 40),
			d.Attempts, cell(d.LastError, 60), d.DeadAt.UTC().Format(time.RFC3339))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if page.Next != "" {
		fmt.Fprintf(env.Stdout, "more: csphub outbox dead-letters --page-token=%s\n", page.Next)
	}
	return nil
}

type OutboxRetryCmd struct {
	ID string `arg:"" help:"Id of the dead letter, as listed by dead-letters."`
}

func (c OutboxRetryCmd) Run(ctx context.Context, env *Env) error {
	svc, actor, closeDB, err := operatorService(ctx, env)
	if err != nil {
		return err
	}
	defer closeDB()
	e, err := svc.RetryDeadLetter(ctx, actor, c.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "queued %s (Message-ID %s) again; a running `csphub serve` delivers it\n", e.ID, e.MessageID)
	return nil
}

// operatorService opens the database and returns the use cases with the
// actor of an operator's command: the system, as an admin of the operator
// organization. Whoever can run the binary against the database is that.
func operatorService(ctx context.Context, env *Env) (*service.Service, csphub.Actor, func(), error) {
	log := newLogger(env.Cfg)
	db, err := openDB(ctx, env.Cfg, log)
	if err != nil {
		return nil, csphub.Actor{}, nil, err
	}
	svc := service.New(db, log, service.Options{MailServer: mailServer(env.Cfg)})
	op, _, err := svc.OperatorOrganization(ctx)
	if err != nil {
		db.Close()
		return nil, csphub.Actor{}, nil, err
	}
	actor := csphub.System("cli")
	actor.OrgID, actor.Roles = op.ID, []string{service.RoleOperatorAdmin}
	return svc, actor, func() { db.Close() }, nil
}

// cell makes a value safe and short for one table cell: the text comes from
// the database and from remote SMTP servers, so control and format
// characters (line breaks, terminal escapes, bidirectional overrides) are
// replaced, and long values are cut.
func cell(s string, width int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "-"
	}
	if r := []rune(s); len(r) > width {
		return string(r[:width-1]) + "…"
	}
	return s
}
