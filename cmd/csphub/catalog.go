package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"csphub"
	"csphub/internal/catalogfile"
	"csphub/internal/service"
)

// OperatorImportCatalogCmd imports the catalogue's offers from a file.
type OperatorImportCatalogCmd struct {
	File      string `arg:"" optional:"" type:"path" help:"CSV file (.csv) whose first row names the columns code, product_code, product_name, sku_code, sku_name, market, currency, price_minor, billing_cycle, term, min_quantity, max_quantity and, optionally, available_from and available_to; or YAML file (.yaml, .yml) listing one mapping with these keys per offer."`
	Sample    bool   `name:"sample" help:"Import csphub's sample catalogue (3 products in 12 markets) instead of a file."`
	BatchSize int    `name:"batch-size" default:"1000" help:"Offers imported per transaction (1 to 5000)."`
}

func (c OperatorImportCatalogCmd) Run(ctx context.Context, env *Env) error {
	if c.BatchSize < 1 || c.BatchSize > service.MaxCatalogImport {
		return fmt.Errorf("--batch-size must be 1 to %d", service.MaxCatalogImport)
	}
	name := c.File
	var (
		rows      []service.CatalogRow
		parseErrs []service.CatalogRowError
	)
	switch {
	case c.Sample && c.File != "":
		return errors.New("give a file or --sample, not both")
	case c.Sample:
		name = "the sample catalogue"
		var err error
		if rows, err = catalogfile.Sample(); err != nil {
			return err
		}
	case c.File == "":
		return errors.New("name the catalogue file to import (.csv, .yaml or .yml), or pass --sample")
	default:
		in, err := os.Open(c.File)
		if err != nil {
			return fmt.Errorf("cannot read the catalogue: %w", err)
		}
		rows, parseErrs = catalogfile.Parse(c.File, in)
		in.Close()
	}
	if len(rows) == 0 {
		// Nothing can be imported (a bad header, not YAML, no rows): say
		// why before touching the database.
		writeCatalogReport(env.Stderr, parseErrs)
		if len(parseErrs) > 0 {
			return fmt.Errorf("nothing imported: no row of %s can be imported, for the reasons listed above", name)
		}
		fmt.Fprintf(env.Stderr, "%s has no offers: nothing to import\n", name)
		return nil
	}

	rep, refused, importErr := c.importRows(ctx, env, rows)
	report := append(parseErrs, refused...)
	slices.SortStableFunc(report, func(a, b service.CatalogRowError) int { return cmp.Compare(a.Row, b.Row) })
	writeCatalogReport(env.Stderr, report)
	nRefused := countCatalogRows(report)
	fmt.Fprintf(env.Stderr, "offers: %d created, %d updated, %d unchanged, %d refused\n", rep.Created, rep.Updated, rep.Unchanged, nRefused)
	imported := rep.Created + rep.Updated + rep.Unchanged
	switch {
	case importErr != nil:
		return importErr
	case nRefused > 0 && imported == 0:
		return fmt.Errorf("%s refused (listed above); nothing imported", plural(nRefused, "row"))
	case nRefused > 0:
		return fmt.Errorf("%s refused (listed above); the valid rows were imported", plural(nRefused, "row"))
	}
	return nil
}

// importRows imports rows batch by batch and returns the counts and the
// reasons of the refused rows.
func (c OperatorImportCatalogCmd) importRows(ctx context.Context, env *Env, rows []service.CatalogRow) (service.CatalogReport, []service.CatalogRowError, error) {
	var total service.CatalogReport
	log := newLogger(env.Cfg)
	db, err := openDB(ctx, env.Cfg, log)
	if err != nil {
		return total, nil, err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db, env.Cfg.ShouldMigrate(), log); err != nil {
		return total, nil, err
	}
	svc := service.New(db, log, service.Options{MailServer: mailServer(env.Cfg), BaseURL: env.Cfg.BaseURL()})
	op, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"})
	if err != nil {
		return total, nil, err
	}
	// Whoever can run the binary against the database is an operator admin.
	actor := csphub.System("cli")
	actor.OrgID, actor.Roles = op.ID, []string{service.RoleOperatorAdmin}

	// A repeated code is refused here, over the whole file, rather than by
	// each batch: a repeat in a later batch would silently update the
	// offer of an earlier one.
	var refused []service.CatalogRowError
	firstRow := map[string]int{}
	send := make([]service.CatalogRow, 0, len(rows))
	for _, r := range rows {
		code := strings.TrimSpace(r.Code)
		if first, dup := firstRow[code]; dup && code != "" {
			refused = append(refused, service.CatalogRowError{Row: r.Row, OfferCode: code, Field: "code", Code: "duplicate_in_batch",
				Message: fmt.Sprintf("appears more than once in this file (first at row %d)", first)})
			continue
		}
		firstRow[code] = r.Row
		send = append(send, r)
	}
	rows = send
	if len(rows) == 0 {
		return total, refused, nil
	}

	progress := newCatalogProgress(env.Stderr, len(rows))
	defer progress.finish()
	batches := (len(rows) + c.BatchSize - 1) / c.BatchSize
	for b := range batches {
		batch := rows[b*c.BatchSize : min(len(rows), (b+1)*c.BatchSize)]
		rep, err := svc.ImportCatalog(ctx, actor, batch)
		if err != nil {
			return total, refused, fmt.Errorf("batch %d of %d (rows %d to %d) failed, and the batches after it were not tried; "+
				"the %d offers imported before it stay imported: %s", b+1, batches, batch[0].Row, batch[len(batch)-1].Row,
				total.Created+total.Updated+total.Unchanged, describe(err))
		}
		total.Created += rep.Created
		total.Updated += rep.Updated
		total.Unchanged += rep.Unchanged
		total.Refused += rep.Refused
		refused = append(refused, rep.RowErrors()...)
		progress.batch(b+1, batches, batch, rep)
	}
	return total, refused, nil
}

// catalogProgress shows how far an import is: a bar on a terminal, one
// line per batch otherwise (a log file, a pipe).
type catalogProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newCatalogProgress(w io.Writer, total int) *catalogProgress {
	p := &catalogProgress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("importing offers"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *catalogProgress) batch(n, of int, rows []service.CatalogRow, rep service.CatalogReport) {
	if p.bar != nil {
		_ = p.bar.Add(len(rows))
		return
	}
	fmt.Fprintf(p.w, "batch %d/%d: rows %d to %d: %d created, %d updated, %d unchanged, %d refused\n",
		n, of, rows[0].Row, rows[len(rows)-1].Row, rep.Created, rep.Updated, rep.Unchanged, rep.Refused)
}

func (p *catalogProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// writeCatalogReport lists every refused row with its reasons. The values
// come from the file, so cells are made safe for the terminal.
func writeCatalogReport(w io.Writer, errs []service.CatalogRowError) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintf(w, "%s refused:\n", plural(countCatalogRows(errs), "row"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROW\tOFFER CODE\tFIELD\tREASON")
	for _, e := range errs {
		row := "-"
		if e.Row > 0 {
			row = strconv.Itoa(e.Row)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row, cell(e.OfferCode, 40), cell(e.Field, 20), cell(e.Field+" "+e.Message, 160))
	}
	tw.Flush()
}

// countCatalogRows counts the distinct rows of a report.
func countCatalogRows(errs []service.CatalogRowError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		seen[e.Row] = true
	}
	return len(seen)
}
