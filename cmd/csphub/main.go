// Command csphub runs a two-tier Cloud Solution Provider program: the
// server, its migrations and the operator's tasks, in one binary.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"csphub"
	"csphub/internal/config"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// CLI is the command line. Global flags are the configuration; each
// subcommand is a struct with a Run method.
type CLI struct {
	ConfigFile kong.ConfigFlag `name:"config" short:"c" env:"CSPHUB_CONFIG" help:"YAML configuration file (keys are the flag names)."`
	config.Config

	Serve      ServeCmd    `cmd:"" help:"Run the HTTP server and the background workers."`
	Demo       DemoCmd     `cmd:"" help:"Seed a demo world (operator, providers, resellers, customers, orders) and serve it; print demo users' TOTP codes."`
	Migrate    MigrateCmd  `cmd:"" help:"Apply or inspect database migrations."`
	ShowConfig ConfigCmd   `cmd:"" name:"config" help:"Print the effective configuration, secrets redacted."`
	Audit      AuditCmd    `cmd:"" help:"Inspect the audit log."`
	Mail       MailCmd     `cmd:"" help:"Mail tasks: send a test message."`
	Operator   OperatorCmd `cmd:"" help:"Operator tasks: set up admins, import partner IDs."`
	Outbox     OutboxCmd   `cmd:"" help:"Outbox tasks: list and retry dead letters."`
	Version    VersionCmd  `cmd:"" help:"Print the version."`
}

// Env is what every command receives: the validated configuration and the
// output streams.
type Env struct {
	Cfg    *config.Config
	Stdout io.Writer
	Stderr io.Writer
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var cli CLI
	kctx := kong.Parse(&cli,
		kong.Name("csphub"),
		kong.Description("csphub runs a two-tier Cloud Solution Provider program: an operator, indirect providers, indirect resellers and their customers."),
		kong.UsageOnError(),
		kong.Configuration(yamlLoader),
		kong.BindTo(ctx, (*context.Context)(nil)),
	)
	if err := cli.Config.Validate(); err != nil {
		fmt.Fprintf(os.Stderr, "csphub: invalid configuration:\n%v\n", err)
		os.Exit(2)
	}
	env := &Env{Cfg: &cli.Config, Stdout: os.Stdout, Stderr: os.Stderr}
	if err := kctx.Run(env); err != nil {
		fmt.Fprintln(os.Stderr, "csphub:", describe(err))
		os.Exit(1)
	}
}

// describe words an error for the terminal: a domain error by its message
// and field errors, anything else as it is.
func describe(err error) string {
	e := csphub.AsError(err)
	if e == nil {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	return b.String()
}
