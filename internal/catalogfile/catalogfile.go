// Package catalogfile reads the operator's catalogue from a file: CSV (a
// header row naming the columns, then one offer a row) or YAML (a list of
// mappings with the same keys). Rows are numbered by the line they start
// on. A value that cannot be read (a price that is not a whole number) is
// kept as a problem of its row, so that the import reports it with the
// row's other reasons; a row that cannot be read at all is reported and
// dropped; a bad header or a file that is not YAML stops the reading. The
// values themselves are checked by service.ImportCatalog.
//
// It also embeds csphub's sample catalogue (Sample), used by the demo.
package catalogfile

import (
	_ "embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"csphub"
	"csphub/internal/service"
)

// Columns are the columns of a catalogue file, and the keys of a YAML
// item; available_from and available_to may be left out.
var Columns = []string{"code", "product_code", "product_name", "sku_code", "sku_name", "market", "currency",
	"price_minor", "billing_cycle", "term", "min_quantity", "max_quantity", "available_from", "available_to"}

// requiredColumns are the columns a CSV header must name.
var requiredColumns = Columns[:12]

//go:embed sample.yaml
var sample []byte

// SampleYAML is the sample catalogue's file.
func SampleYAML() []byte { return slices.Clone(sample) }

// Sample is csphub's sample catalogue: three products (Cloud Productivity
// Standard and Premium, Cloud Security, Cloud Backup) in twelve markets,
// one-month terms billed monthly and one-year terms billed annually.
func Sample() ([]service.CatalogRow, error) {
	rows, errs := ParseYAML(strings.NewReader(string(sample)))
	if len(errs) > 0 {
		return nil, fmt.Errorf("sample catalogue: line %d: %s %s", errs[0].Row, errs[0].Field, errs[0].Message)
	}
	return rows, nil
}

// Parse reads a catalogue file, CSV or YAML by the extension of its name
// (.csv, .yaml or .yml).
func Parse(name string, r io.Reader) ([]service.CatalogRow, []service.CatalogRowError) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".csv":
		return ParseCSV(r)
	case ".yaml", ".yml":
		return ParseYAML(r)
	}
	return nil, []service.CatalogRowError{{Field: "file", Code: "unknown_format",
		Message: fmt.Sprintf("%s is neither .csv nor .yaml/.yml: name the file after its format", shortValue(filepath.Base(name)))}}
}

// shortValue is a value cut short enough to show back.
func shortValue(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:39]) + "…"
}

// setField puts the text of a column or key into a row, keeping a value
// that cannot be read as a problem of the row.
func setField(row *service.CatalogRow, name, v string) {
	v = strings.TrimSpace(v)
	switch name {
	case "code":
		row.Code = v
	case "product_code":
		row.ProductCode = v
	case "product_name":
		row.ProductName = v
	case "sku_code":
		row.SKUCode = v
	case "sku_name":
		row.SKUName = v
	case "market":
		row.Market = v
	case "currency":
		row.Currency = v
	case "billing_cycle":
		row.BillingCycle = v
	case "term":
		row.Term = v
	case "available_from":
		row.AvailableFrom = v
	case "available_to":
		row.AvailableTo = v
	case "price_minor":
		if v == "" {
			return // the import says it is required
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			row.Problems = append(row.Problems, csphub.FieldError{Field: name, Code: "invalid_number",
				Message: fmt.Sprintf("must be a whole number of minor units (1250 for 12.50), not %q", shortValue(v))})
			return
		}
		row.PriceMinor = &n
	case "min_quantity", "max_quantity":
		if v == "" {
			row.Problems = append(row.Problems, csphub.FieldError{Field: name, Code: "required", Message: "is required"})
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			row.Problems = append(row.Problems, csphub.FieldError{Field: name, Code: "invalid_number",
				Message: fmt.Sprintf("must be a whole number, not %q", shortValue(v))})
			return
		}
		if name == "min_quantity" {
			row.MinQuantity = n
		} else {
			row.MaxQuantity = n
		}
	}
}

// normalizeName is a column name as compared: lower case, with spaces and
// dashes read as underscores.
func normalizeName(raw string) string {
	return strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(raw)))
}

// --- CSV ---

// ParseCSV reads a catalogue from CSV: a header row naming the columns (in
// any order and any case; available_from and available_to may be left
// out), then one offer a row.
func ParseCSV(r io.Reader) ([]service.CatalogRow, []service.CatalogRowError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var (
		rows  []service.CatalogRow
		errs  []service.CatalogRowError
		cols  map[string]int
		width int
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			errs = append(errs, service.CatalogRowError{Row: pe.StartLine, Field: "row", Code: "malformed_row",
				Message: "is not valid CSV: " + pe.Err.Error()})
			if cols == nil {
				return nil, errs
			}
			continue
		}
		if err != nil {
			return rows, append(errs, service.CatalogRowError{Field: "file", Code: "unreadable", Message: "could not be read: " + err.Error()})
		}
		line, _ := cr.FieldPos(0)
		if cols == nil {
			var headerErrs []service.CatalogRowError
			cols, headerErrs = parseHeader(rec, line)
			if len(headerErrs) > 0 {
				return nil, append(errs, headerErrs...)
			}
			width = len(rec)
			continue
		}
		code := ""
		if i := cols["code"]; i < len(rec) {
			code = shortValue(strings.TrimSpace(rec[i]))
		}
		if len(rec) != width {
			errs = append(errs, service.CatalogRowError{Row: line, OfferCode: code, Field: "row", Code: "wrong_field_count",
				Message: fmt.Sprintf("has %d fields, the header names %d", len(rec), width)})
			continue
		}
		row := service.CatalogRow{Row: line}
		for name, i := range cols {
			setField(&row, name, rec[i])
		}
		sortProblems(&row)
		rows = append(rows, row)
	}
	if cols == nil && len(errs) == 0 {
		errs = append(errs, service.CatalogRowError{Row: 1, Field: "header", Code: "missing_header",
			Message: "is missing: the file is empty, and its first row must name the columns " + strings.Join(requiredColumns, ", ") +
				" and, optionally, available_from and available_to"})
	}
	return rows, errs
}

// sortProblems puts a row's problems in the order of the columns, whatever
// the order of the file.
func sortProblems(row *service.CatalogRow) {
	slices.SortStableFunc(row.Problems, func(a, b csphub.FieldError) int {
		return slices.Index(Columns, a.Field) - slices.Index(Columns, b.Field)
	})
}

func parseHeader(rec []string, line int) (map[string]int, []service.CatalogRowError) {
	cols := map[string]int{}
	var errs []service.CatalogRowError
	for i, raw := range rec {
		if i == 0 {
			raw = strings.TrimPrefix(raw, "\ufeff") // spreadsheets start UTF-8 files with a byte order mark
		}
		name := normalizeName(raw)
		if !slices.Contains(Columns, name) {
			errs = append(errs, service.CatalogRowError{Row: line, Field: "header", Code: "unknown_column",
				Message: fmt.Sprintf("names the column %q, which is not one of %s", shortValue(raw), strings.Join(Columns, ", "))})
			continue
		}
		if _, dup := cols[name]; dup {
			errs = append(errs, service.CatalogRowError{Row: line, Field: "header", Code: "duplicate_column",
				Message: fmt.Sprintf("names the column %s twice", name)})
			continue
		}
		cols[name] = i
	}
	for _, name := range requiredColumns {
		if _, ok := cols[name]; !ok {
			errs = append(errs, service.CatalogRowError{Row: line, Field: "header", Code: "missing_column",
				Message: fmt.Sprintf("lacks the column %s: the first row must name the columns %s and, optionally, available_from and available_to",
					name, strings.Join(requiredColumns, ", "))})
		}
	}
	return cols, errs
}

// --- YAML ---

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// ParseYAML reads a catalogue from YAML: a list of mappings whose keys are
// the column names, one offer an item, e.g.
//
//   - code: CP-STANDARD-FR-P1M
//     product_code: CLOUD-PRODUCTIVITY
//     price_minor: 1170
//     ...
func ParseYAML(r io.Reader) ([]service.CatalogRow, []service.CatalogRowError) {
	var doc yaml.Node
	err := yaml.NewDecoder(r).Decode(&doc)
	if errors.Is(err, io.EOF) {
		return nil, []service.CatalogRowError{{Row: 1, Field: "file", Code: "empty",
			Message: "is empty: it must be a YAML list of offers, one mapping of " + strings.Join(requiredColumns, ", ") + " each"}}
	}
	if err != nil {
		e := service.CatalogRowError{Field: "file", Code: "invalid_yaml", Message: "is not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			e.Row, _ = strconv.Atoi(m[1])
			e.Message = "is not valid YAML: " + m[2]
		}
		return nil, []service.CatalogRowError{e}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind != yaml.SequenceNode {
		return nil, []service.CatalogRowError{{Row: root.Line, Field: "file", Code: "not_a_list",
			Message: "must be a YAML list of offers (items starting with \"- \"), one mapping of " + strings.Join(requiredColumns, ", ") + " each"}}
	}
	var (
		rows []service.CatalogRow
		errs []service.CatalogRowError
	)
	for _, item := range root.Content {
		if item.Kind == yaml.AliasNode && item.Alias != nil {
			item = item.Alias
		}
		if item.Kind != yaml.MappingNode {
			errs = append(errs, service.CatalogRowError{Row: item.Line, Field: "row", Code: "not_a_mapping",
				Message: "is not a mapping of column names to values (code: ..., product_code: ..., ...)"})
			continue
		}
		row := service.CatalogRow{Row: item.Line}
		seen := map[string]bool{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, v := item.Content[i], item.Content[i+1]
			name := normalizeName(k.Value)
			switch {
			case !slices.Contains(Columns, name):
				row.Problems = append(row.Problems, csphub.FieldError{Field: shortValue(k.Value), Code: "unknown_field",
					Message: fmt.Sprintf("(line %d) is not one of %s", k.Line, strings.Join(Columns, ", "))})
				continue
			case seen[name]:
				row.Problems = append(row.Problems, csphub.FieldError{Field: name, Code: "duplicate_field",
					Message: fmt.Sprintf("(line %d) is given twice", k.Line)})
				continue
			}
			seen[name] = true
			if v.Kind == yaml.AliasNode && v.Alias != nil {
				v = v.Alias
			}
			if v.Kind != yaml.ScalarNode {
				row.Problems = append(row.Problems, csphub.FieldError{Field: name, Code: "invalid_value",
					Message: fmt.Sprintf("(line %d) must be a single value, not a list or a mapping", v.Line)})
				continue
			}
			value := v.Value
			if v.Tag == "!!null" {
				value = ""
			}
			if v.Tag == "!!float" && (name == "price_minor" || name == "min_quantity" || name == "max_quantity") {
				row.Problems = append(row.Problems, csphub.FieldError{Field: name, Code: "invalid_number",
					Message: fmt.Sprintf("must be a whole number%s, not %q", map[bool]string{true: " of minor units (1250 for 12.50)"}[name == "price_minor"], shortValue(value))})
				continue
			}
			setField(&row, name, value)
		}
		for _, name := range []string{"min_quantity", "max_quantity"} {
			if !seen[name] {
				row.Problems = append(row.Problems, csphub.FieldError{Field: name, Code: "required", Message: "is required"})
			}
		}
		sortProblems(&row)
		rows = append(rows, row)
	}
	if len(rows) == 0 && len(errs) == 0 {
		errs = append(errs, service.CatalogRowError{Row: root.Line, Field: "file", Code: "empty",
			Message: "lists no offers"})
	}
	return rows, errs
}
