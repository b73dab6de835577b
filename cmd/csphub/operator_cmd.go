package main

import (
	"context"
	"fmt"

	"csphub/internal/service"
)

// OperatorCmd groups the operator's tasks.
type OperatorCmd struct {
	CreateAdmin OperatorCreateAdminCmd `cmd:"" help:"Create an operator admin and print a one-time link to choose their password."`

	ImportPartnerIDs OperatorImportPartnerIDsCmd `cmd:"" name:"import-partner-ids" help:"Import existing partner IDs from a CSV file and write out the claim codes issued for them."`
	ImportCatalog    OperatorImportCatalogCmd    `cmd:"" name:"import-catalog" help:"Import the catalogue's offers from a CSV or YAML file, and report the rows refused and why."`
}

type OperatorCreateAdminCmd struct {
	Email string `arg:"" help:"Work email of the new operator admin."`
	Name  string `name:"name" required:"" help:"Full name."`
	Lang  string `name:"lang" default:"en" enum:"en,fr" help:"Language of their pages and emails."`
}

func (c OperatorCreateAdminCmd) Run(ctx context.Context, env *Env) error {
	log := newLogger(env.Cfg)
	db, err := openDB(ctx, env.Cfg, log)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db, env.Cfg.ShouldMigrate(), log); err != nil {
		return err
	}
	svc := service.New(db, log, service.Options{MailServer: mailServer(env.Cfg), BaseURL: env.Cfg.BaseURL()})
	if _, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"}); err != nil {
		return err
	}
	u, link, err := svc.CreateOperatorAdmin(ctx, c.Email, c.Name, c.Lang)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "created operator admin %s (%s)\nchoose the password within 7 days, once, at:\n  %s\n", u.Email, u.ID, link)
	return nil
}
