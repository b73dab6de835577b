package main

import (
	"cmp"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"csphub"
	"csphub/internal/service"
)

// OperatorImportPartnerIDsCmd imports the partner IDs partners already
// have and writes out the claim codes csphub issues for them.
type OperatorImportPartnerIDsCmd struct {
	File      string `arg:"" type:"path" help:"CSV file whose first row names the columns partner_id, legal_name, country and, optionally, status (active or inactive), in any order."`
	Out       string `name:"out" type:"path" placeholder:"FILE" help:"Write the claim codes as CSV (partner_id,claim_code) to this new file, readable by you only; an existing file is never overwritten. Default: standard output."`
	BatchSize int    `name:"batch-size" default:"1000" help:"Partner IDs imported per transaction (1 to 5000)."`
}

func (c OperatorImportPartnerIDsCmd) Run(ctx context.Context, env *Env) error {
	if c.BatchSize < 1 || c.BatchSize > service.MaxPartnerIDImport {
		return fmt.Errorf("--batch-size must be 1 to %d", service.MaxPartnerIDImport)
	}
	in, err := os.Open(c.File)
	if err != nil {
		return fmt.Errorf("cannot read the partner IDs: %w", err)
	}
	rows, parseErrs := service.ParsePartnerIDCSV(in)
	in.Close()
	if len(rows) == 0 {
		// Nothing can be imported (a bad header, or no rows): say why
		// before touching the database or creating the output file.
		writePartnerIDReport(env.Stderr, parseErrs)
		if len(parseErrs) > 0 {
			return fmt.Errorf("nothing imported: no row of %s can be imported, for the reasons listed above", c.File)
		}
		fmt.Fprintf(env.Stderr, "%s has no partner IDs after its header row: nothing to import\n", c.File)
		return nil
	}

	// The claim codes are shown once: the output file is new and private,
	// created before anything is imported.
	out := env.Stdout
	var outFile *os.File
	if c.Out != "" {
		outFile, err = os.OpenFile(c.Out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%s exists already: choose a new file for the claim codes (it is never overwritten)", c.Out)
		}
		if err != nil {
			return fmt.Errorf("cannot create the claim codes file: %w", err)
		}
		out = outFile
	}

	imported, refused, importErr := c.importRows(ctx, env, rows, out, outFile)
	if outFile != nil {
		if err := outFile.Close(); err != nil && importErr == nil {
			importErr = fmt.Errorf("write %s: %w", c.Out, err)
		}
		if imported == 0 {
			os.Remove(c.Out) // only its header: nothing to keep, and the same name can be used again
		}
	}
	report := append(parseErrs, refused...)
	slices.SortStableFunc(report, func(a, b service.PartnerIDRowError) int { return cmp.Compare(a.Row, b.Row) })
	writePartnerIDReport(env.Stderr, report)
	nRefused := countRows(report)
	where := "standard output"
	if c.Out != "" && imported > 0 {
		where = c.Out
	}
	if imported > 0 {
		fmt.Fprintf(env.Stderr, "imported %s; their claim codes are in %s: hand each to its partner, they are not shown again\n", plural(imported, "partner ID"), where)
	} else {
		fmt.Fprintln(env.Stderr, "imported no partner IDs")
	}
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

// importRows imports rows batch by batch, writing the claim codes of each
// batch as soon as it commits, and returns how many were imported and the
// reasons of the refused rows.
func (c OperatorImportPartnerIDsCmd) importRows(ctx context.Context, env *Env, rows []service.PartnerIDRow, out io.Writer, outFile *os.File) (int, []service.PartnerIDRowError, error) {
	log := newLogger(env.Cfg)
	db, err := openDB(ctx, env.Cfg, log)
	if err != nil {
		return 0, nil, err
	}
	defer db.Close()
	if err := prepareSchema(ctx, db, env.Cfg.ShouldMigrate(), log); err != nil {
		return 0, nil, err
	}
	svc := service.New(db, log, service.Options{MailServer: mailServer(env.Cfg), BaseURL: env.Cfg.BaseURL()})
	op, _, err := svc.EnsureOperator(ctx, service.OperatorSeed{Name: "Operator", Country: "US", Domain: "localhost"})
	if err != nil {
		return 0, nil, err
	}
	// Whoever can run the binary against the database is an operator admin.
	actor := csphub.System("cli")
	actor.OrgID, actor.Roles = op.ID, []string{service.RoleOperatorAdmin}

	// A repeated ID is refused here, over the whole file, rather than by
	// each batch: a repeat in a later batch would read as an ID that
	// exists already.
	var refused []service.PartnerIDRowError
	firstRow := map[string]int{}
	send := make([]service.PartnerIDRow, 0, len(rows))
	for _, r := range rows {
		id := strings.TrimSpace(r.PartnerID)
		if first, dup := firstRow[id]; dup {
			refused = append(refused, service.PartnerIDRowError{Row: r.Row, PartnerID: id, Field: "partner_id", Code: "duplicate_in_batch",
				Message: fmt.Sprintf("appears more than once in this file (first at row %d)", first)})
			continue
		}
		if service.ValidPartnerID(id) {
			firstRow[id] = r.Row
		}
		send = append(send, r)
	}
	rows = send

	codes := csv.NewWriter(out)
	progress := newImportProgress(env.Stderr, len(rows))
	defer progress.finish()
	batches := (len(rows) + c.BatchSize - 1) / c.BatchSize
	imported, header := 0, false
	for b := range batches {
		batch := rows[b*c.BatchSize : min(len(rows), (b+1)*c.BatchSize)]
		im, err := svc.ImportPartnerIDs(ctx, actor, batch)
		if err != nil {
			return imported, refused, fmt.Errorf("batch %d of %d (rows %d to %d) failed, and the batches after it were not tried; "+
				"the %d partner IDs imported before it stay imported: %s", b+1, batches, batch[0].Row, batch[len(batch)-1].Row, imported, describe(err))
		}
		for _, r := range im.Results {
			if r.Outcome == service.PartnerIDImported {
				if imported == 0 && !header {
					header = true
					if err := codes.Write([]string{"partner_id", "claim_code"}); err != nil {
						return imported, refused, fmt.Errorf("write the claim codes: %w", err)
					}
				}
				if err := codes.Write([]string{r.PartnerID, r.ClaimCode}); err != nil {
					return imported, refused, fmt.Errorf("write the claim codes: %w", err)
				}
			}
		}
		codes.Flush()
		if err := codes.Error(); err != nil {
			return imported, refused, fmt.Errorf("write the claim codes: %w", err)
		}
		if outFile != nil {
			if err := outFile.Sync(); err != nil {
				return imported, refused, fmt.Errorf("write the claim codes: %w", err)
			}
		}
		imported += im.Imported
		refused = append(refused, im.RowErrors()...)
		progress.batch(b+1, batches, batch, im)
	}
	return imported, refused, nil
}

// importProgress shows how far an import is: a bar on a terminal, one
// line per batch otherwise (a log file, a pipe).
type importProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func newImportProgress(w io.Writer, total int) *importProgress {
	p := &importProgress{w: w}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("importing partner IDs"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(false),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

func (p *importProgress) batch(n, of int, rows []service.PartnerIDRow, im service.PartnerIDImport) {
	if p.bar != nil {
		_ = p.bar.Add(len(rows))
		return
	}
	fmt.Fprintf(p.w, "batch %d/%d: rows %d to %d: %d imported, %d refused\n", n, of, rows[0].Row, rows[len(rows)-1].Row, im.Imported, im.Refused)
}

func (p *importProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// writePartnerIDReport lists every refused row with its reasons. The
// values come from the file, so cells are made safe for the terminal.
func writePartnerIDReport(w io.Writer, errs []service.PartnerIDRowError) {
	if len(errs) == 0 {
		return
	}
	fmt.Fprintf(w, "%s refused:\n", plural(countRows(errs), "row"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROW\tPARTNER ID\tFIELD\tREASON")
	for _, e := range errs {
		row := "-"
		if e.Row > 0 {
			row = strconv.Itoa(e.Row)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row, cell(e.PartnerID, 20), cell(e.Field, 20), cell(e.Field+" "+e.Message, 160))
	}
	tw.Flush()
}

// countRows counts the distinct rows of a report.
func countRows(errs []service.PartnerIDRowError) int {
	seen := map[int]bool{}
	for _, e := range errs {
		seen[e.Row] = true
	}
	return len(seen)
}

// plural counts things in English: "1 row", "2 rows".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}
