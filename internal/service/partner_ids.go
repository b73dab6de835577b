package service

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"csphub"
	"csphub/internal/store"
)

// Partner IDs are the program's numeric partner identifiers (6 to 10
// digits, never starting with 0). The operator imports the IDs its
// partners already have, from a CSV file or the API, and csphub issues a
// claim code for each: the operator hands it to the partner, who proves
// with it, at enrollment, that the ID is theirs. A claim code is shown once
// and only its SHA-256 is kept. A partner who enrols without an ID gets a
// new one issued.

// MaxPartnerIDImport is how many partner IDs one import takes; larger
// files are imported in several calls (the command line does it).
const MaxPartnerIDImport = 5000

// maxPartnerIDLegalName bounds a partner ID's legal name, in characters.
const maxPartnerIDLegalName = 200

var partnerIDShape = regexp.MustCompile(`^[1-9][0-9]{5,9}$`)

// ValidPartnerID reports whether s has the shape of a partner ID: 6 to 10
// digits, the first not 0.
func ValidPartnerID(s string) bool { return partnerIDShape.MatchString(s) }

var (
	errPartnerIDAdminRequired = csphub.Errorf(csphub.KindForbidden, "operator_admin_required",
		"only an operator admin can import partner IDs or change their status")
	errPartnerIDReaderRequired = csphub.Errorf(csphub.KindForbidden, "operator_role_required",
		"only operator admins and verification reviewers can see partner IDs")
)

// requirePartnerIDRole refuses anyone who is not acting in the operator
// organization with one of roles.
func requirePartnerIDRole(tx *store.Tx, actor csphub.Actor, refusal *csphub.Error, roles ...string) error {
	if !slices.ContainsFunc(roles, actor.HasRole) {
		return refusal
	}
	op, err := tx.OperatorOrganization()
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return refusal
	}
	if err != nil {
		return err
	}
	if actor.TenantID() != op.ID {
		return refusal
	}
	return nil
}

// --- claim codes ---

// A claim code is 30 symbols of the RFC 4648 base32 alphabet (150 random
// bits), written in six groups of five: XXXXX-XXXXX-XXXXX-XXXXX-XXXXX-XXXXX.
// The alphabet has no 0, 1 or 8, so nothing reads as O, I or B; typing
// compares the code without case, spaces or dashes.
const (
	claimCodeAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	claimCodeSymbols  = 30
	claimCodeGroup    = 5
	maxClaimCodeInput = 100
)

// newClaimCode returns a new claim code and its hash.
func newClaimCode() (plain, hash string, err error) {
	var b [claimCodeSymbols]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", err
	}
	var sb strings.Builder
	for i, c := range b {
		if i > 0 && i%claimCodeGroup == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(claimCodeAlphabet[c&31]) // 256 is a multiple of 32: no bias
	}
	plain = sb.String()
	return plain, hashClaimCode(plain), nil
}

// NormalizeClaimCode is a claim code as it is compared: upper case, no
// spaces or dashes of any kind, and 0, 1 and 8 read as the O, I and B
// they were mistaken for.
func NormalizeClaimCode(s string) string {
	var sb strings.Builder
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.Is(unicode.Pd, r) || r == '\u2212' {
			continue
		}
		r = unicode.ToUpper(r)
		switch r {
		case '0':
			r = 'O'
		case '1':
			r = 'I'
		case '8':
			r = 'B'
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

func hashClaimCode(code string) string { return hashSecret(NormalizeClaimCode(code)) }

// --- import ---

// PartnerIDRow is one partner ID to import, as a CSV row or an API item.
type PartnerIDRow struct {
	// Row numbers the row in its file (or the item in its request, from
	// 1); results and errors name it.
	Row       int    `json:"-"`
	PartnerID string `json:"partner_id,omitempty" doc:"6 to 10 digits, not starting with 0. Required: an item without it is refused."`
	LegalName string `json:"legal_name,omitempty" doc:"Legal name of the partner, 1 to 200 characters. Required: an item without it is refused."`
	Country   string `json:"country,omitempty" doc:"Location of the partner: ISO 3166-1 alpha-2 country code, e.g. FR. Required: an item without it is refused."`
	Status    string `json:"status,omitempty" doc:"active (default) or inactive; an inactive partner ID cannot be linked at enrollment"`
}

// PartnerIDRowError is one reason a row was refused.
type PartnerIDRowError struct {
	Row       int    `json:"row"`
	PartnerID string `json:"partner_id,omitempty"`
	Field     string `json:"field"`
	Code      string `json:"code"`
	Message   string `json:"message"`
}

// Outcomes of an imported row.
const (
	PartnerIDImported = "imported"
	PartnerIDRefused  = "refused"
)

// PartnerIDResult is what became of one row of an import.
type PartnerIDResult struct {
	Row       int                 `json:"row" doc:"The item's position in the request, from 1 (the line in a CSV file)"`
	PartnerID string              `json:"partner_id"`
	Outcome   string              `json:"outcome" enum:"imported,refused"`
	ClaimCode string              `json:"claim_code,omitempty" doc:"Imported rows only: the code the partner enters to link the ID. Shown in this response only; csphub keeps its hash."`
	Errors    []csphub.FieldError `json:"errors,omitempty" doc:"Refused rows only: every reason, by field"`
}

// PartnerIDImport is the outcome of an import, row by row, in the order
// of the rows.
type PartnerIDImport struct {
	Imported int               `json:"imported"`
	Refused  int               `json:"refused"`
	Results  []PartnerIDResult `json:"results"`
}

// RowErrors lists every reason of every refused row, in row order.
func (im PartnerIDImport) RowErrors() []PartnerIDRowError {
	var out []PartnerIDRowError
	for _, r := range im.Results {
		for _, fe := range r.Errors {
			out = append(out, PartnerIDRowError{Row: r.Row, PartnerID: r.PartnerID, Field: fe.Field, Code: fe.Code, Message: fe.Message})
		}
	}
	return out
}

// partnerIDImportAudit is what the audit trail keeps of an imported
// partner ID: never its claim code, nor the code's hash.
type partnerIDImportAudit struct {
	csphub.PartnerID
	Row int `json:"row"`
}

// shortValue is a refused value cut short enough to show back.
func shortValue(s string) string {
	if utf8.RuneCountInString(s) <= 40 {
		return s
	}
	return string([]rune(s)[:39]) + "…"
}

// checkPartnerIDRow validates and normalizes one row.
func checkPartnerIDRow(in PartnerIDRow) (PartnerIDRow, []csphub.FieldError) {
	var fields []csphub.FieldError
	out := PartnerIDRow{Row: in.Row}
	out.PartnerID = strings.TrimSpace(in.PartnerID)
	switch {
	case out.PartnerID == "":
		fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "required", Message: "is required"})
	case !ValidPartnerID(out.PartnerID):
		fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "invalid_partner_id",
			Message: "must be 6 to 10 digits, the first not 0"})
	}
	out.LegalName = strings.TrimSpace(in.LegalName)
	switch {
	case out.LegalName == "":
		fields = append(fields, csphub.FieldError{Field: "legal_name", Code: "required", Message: "is required"})
	case utf8.RuneCountInString(out.LegalName) > maxPartnerIDLegalName:
		fields = append(fields, csphub.FieldError{Field: "legal_name", Code: "too_long",
			Message: fmt.Sprintf("must be at most %d characters", maxPartnerIDLegalName)})
	case !utf8.ValidString(out.LegalName) || strings.IndexFunc(out.LegalName, unicode.IsControl) >= 0:
		fields = append(fields, csphub.FieldError{Field: "legal_name", Code: "invalid_characters",
			Message: "must be text on one line, without control characters"})
	}
	out.Country = strings.ToUpper(strings.TrimSpace(in.Country))
	switch {
	case out.Country == "":
		fields = append(fields, csphub.FieldError{Field: "country", Code: "required", Message: "is required"})
	case !ValidCountry(out.Country):
		fields = append(fields, csphub.FieldError{Field: "country", Code: "invalid_country",
			Message: "must be an ISO 3166-1 alpha-2 country code like FR or US"})
	}
	out.Status = strings.ToLower(strings.TrimSpace(in.Status))
	if out.Status == "" {
		out.Status = string(csphub.PartnerIDActive)
	}
	if out.Status != string(csphub.PartnerIDActive) && out.Status != string(csphub.PartnerIDInactive) {
		fields = append(fields, csphub.FieldError{Field: "status", Code: "invalid_status", Message: "must be active or inactive"})
	}
	return out, fields
}

// ImportPartnerIDs imports existing partner IDs, operator admins only.
// Every row is checked; the valid ones are imported together, each with a
// new claim code, and the others are refused with every reason, so one bad
// row loses nothing else. A row repeating an ID of an earlier row, or
// naming an ID that exists already, is refused.
func (s *Service) ImportPartnerIDs(ctx context.Context, actor csphub.Actor, rows []PartnerIDRow) (PartnerIDImport, error) {
	return write(ctx, s, func(tx *store.Tx) (PartnerIDImport, error) {
		if err := requirePartnerIDRole(tx, actor, errPartnerIDAdminRequired, csphub.RoleOperatorAdmin); err != nil {
			return PartnerIDImport{}, err
		}
		switch {
		case len(rows) == 0:
			return PartnerIDImport{}, csphub.Invalid(csphub.FieldError{Field: "items", Code: "empty",
				Message: "send at least one partner ID"})
		case len(rows) > MaxPartnerIDImport:
			return PartnerIDImport{}, csphub.Invalid(csphub.FieldError{Field: "items", Code: "too_many",
				Message: fmt.Sprintf("%d partner IDs sent; one import takes at most %d: split them into several imports", len(rows), MaxPartnerIDImport)})
		}
		im := PartnerIDImport{Results: make([]PartnerIDResult, len(rows))}
		checked := make([]PartnerIDRow, len(rows))
		firstRow := make(map[string]int, len(rows))
		var candidates []string
		for i, in := range rows {
			if in.Row <= 0 {
				in.Row = i + 1
			}
			row, fields := checkPartnerIDRow(in)
			if ValidPartnerID(row.PartnerID) {
				if first, dup := firstRow[row.PartnerID]; dup {
					fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "duplicate_in_batch",
						Message: fmt.Sprintf("appears more than once in this import (first at row %d)", first)})
				} else {
					firstRow[row.PartnerID] = row.Row
				}
			}
			checked[i] = row
			im.Results[i] = PartnerIDResult{Row: row.Row, PartnerID: shortValue(row.PartnerID), Errors: fields}
			if len(fields) == 0 {
				candidates = append(candidates, row.PartnerID)
			}
		}
		existing, err := tx.ExistingPartnerIDs(candidates)
		if err != nil {
			return PartnerIDImport{}, err
		}
		exists := csphub.FieldError{Field: "partner_id", Code: "partner_id_exists", Message: "exists already"}
		var recs []store.PartnerIDRecord
		recIndex := map[string]int{}
		for i, row := range checked {
			if len(im.Results[i].Errors) > 0 {
				continue
			}
			if existing[row.PartnerID] {
				im.Results[i].Errors = []csphub.FieldError{exists}
				continue
			}
			code, hash, err := newClaimCode()
			if err != nil {
				return PartnerIDImport{}, err
			}
			im.Results[i].ClaimCode = code
			recIndex[row.PartnerID] = i
			recs = append(recs, store.PartnerIDRecord{ClaimCodeHash: hash, PartnerID: csphub.PartnerID{
				PartnerID: row.PartnerID, LegalName: row.LegalName, Country: row.Country,
				Status: csphub.PartnerIDStatus(row.Status), Source: "imported", CreatedAt: tx.Now()}})
		}
		inserted, err := tx.InsertPartnerIDs(recs)
		if err != nil {
			return PartnerIDImport{}, err
		}
		for _, rec := range recs {
			i := recIndex[rec.PartnerID.PartnerID]
			if !inserted[rec.PartnerID.PartnerID] { // another import committed it meanwhile
				im.Results[i].ClaimCode, im.Results[i].Errors = "", []csphub.FieldError{exists}
				continue
			}
			if err := tx.Audit(actor, csphub.AuditEntry{Action: "partner_id.import", ResourceType: "partner_id",
				ResourceID: rec.PartnerID.PartnerID, After: partnerIDImportAudit{PartnerID: rec.PartnerID, Row: im.Results[i].Row}}); err != nil {
				return PartnerIDImport{}, err
			}
		}
		for i := range im.Results {
			if len(im.Results[i].Errors) > 0 {
				im.Results[i].Outcome = PartnerIDRefused
				im.Refused++
			} else {
				im.Results[i].Outcome = PartnerIDImported
				im.Imported++
			}
		}
		if im.Imported > 0 {
			if err := tx.Emit(actor, csphub.EventEntry{Type: "partner_ids.imported", Subject: actor.TenantID(),
				Data: map[string]int{"count": im.Imported}}); err != nil {
				return PartnerIDImport{}, err
			}
		}
		return im, nil
	})
}

// partnerIDCSVColumns are the columns of an import file; status is optional.
var partnerIDCSVColumns = []string{"partner_id", "legal_name", "country", "status"}

// ParsePartnerIDCSV reads an import file: a header row naming the columns
// partner_id, legal_name, country and, optionally, status (in any order
// and any case), then one partner ID a row. Rows are numbered by the line
// they start on, as a spreadsheet shows them. A row that cannot be read is
// reported, never dropped; a bad header stops the reading, since no row
// can be understood without it. The values themselves are checked by
// ImportPartnerIDs.
func ParsePartnerIDCSV(r io.Reader) ([]PartnerIDRow, []PartnerIDRowError) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var (
		rows  []PartnerIDRow
		errs  []PartnerIDRowError
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
			errs = append(errs, PartnerIDRowError{Row: pe.StartLine, Field: "row", Code: "malformed_row",
				Message: "is not valid CSV: " + pe.Err.Error()})
			if cols == nil {
				return nil, errs
			}
			continue
		}
		if err != nil {
			return rows, append(errs, PartnerIDRowError{Field: "file", Code: "unreadable", Message: "could not be read: " + err.Error()})
		}
		line, _ := cr.FieldPos(0)
		if cols == nil {
			var headerErrs []PartnerIDRowError
			cols, headerErrs = parsePartnerIDHeader(rec, line)
			if len(headerErrs) > 0 {
				return nil, append(errs, headerErrs...)
			}
			width = len(rec)
			continue
		}
		if len(rec) != width {
			id := ""
			if i := cols["partner_id"]; i < len(rec) {
				id = shortValue(strings.TrimSpace(rec[i]))
			}
			errs = append(errs, PartnerIDRowError{Row: line, PartnerID: id, Field: "row", Code: "wrong_field_count",
				Message: fmt.Sprintf("has %d fields, the header names %d", len(rec), width)})
			continue
		}
		row := PartnerIDRow{Row: line, PartnerID: rec[cols["partner_id"]], LegalName: rec[cols["legal_name"]], Country: rec[cols["country"]]}
		if i, ok := cols["status"]; ok {
			row.Status = rec[i]
		}
		rows = append(rows, row)
	}
	if cols == nil && len(errs) == 0 {
		errs = append(errs, PartnerIDRowError{Row: 1, Field: "header", Code: "missing_header",
			Message: "is missing: the file is empty, and its first row must name the columns partner_id, legal_name, country and, optionally, status"})
	}
	return rows, errs
}

func parsePartnerIDHeader(rec []string, line int) (map[string]int, []PartnerIDRowError) {
	cols := map[string]int{}
	var errs []PartnerIDRowError
	for i, raw := range rec {
		if i == 0 {
			raw = strings.TrimPrefix(raw, "\ufeff") // spreadsheets start UTF-8 files with a byte order mark
		}
		name := strings.NewReplacer(" ", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(raw)))
		if !slices.Contains(partnerIDCSVColumns, name) {
			errs = append(errs, PartnerIDRowError{Row: line, Field: "header", Code: "unknown_column",
				Message: fmt.Sprintf("names the column %q, which is not one of partner_id, legal_name, country, status", shortValue(raw))})
			continue
		}
		if _, dup := cols[name]; dup {
			errs = append(errs, PartnerIDRowError{Row: line, Field: "header", Code: "duplicate_column",
				Message: fmt.Sprintf("names the column %s twice", name)})
			continue
		}
		cols[name] = i
	}
	for _, name := range partnerIDCSVColumns[:3] {
		if _, ok := cols[name]; !ok {
			errs = append(errs, PartnerIDRowError{Row: line, Field: "header", Code: "missing_column",
				Message: fmt.Sprintf("lacks the column %s: the first row must name the columns partner_id, legal_name, country and, optionally, status", name)})
		}
	}
	return cols, errs
}

// --- list and status ---

// PartnerIDPage is one page of partner IDs.
type PartnerIDPage struct {
	Items         []csphub.PartnerID `json:"items"`
	NextPageToken string             `json:"next_page_token,omitempty"`
}

// Page tokens of the partner ID list: the position (created_at,
// partner_id) of the last row of the previous page, opaque to clients.
func encodePartnerIDKeyset(k store.PartnerIDKeyset) string {
	return base64.RawURLEncoding.EncodeToString([]byte(k.CreatedAt.UTC().Format(time.RFC3339Nano) + "|" + k.PartnerID))
}

func decodePartnerIDKeyset(token string) (*store.PartnerIDKeyset, error) {
	if token == "" {
		return nil, nil
	}
	bad := csphub.Invalid(csphub.FieldError{Field: "page_token", Code: "invalid_page_token", Message: "is not a page token from this list"})
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, bad
	}
	at, id, ok := strings.Cut(string(raw), "|")
	t, err := time.Parse(time.RFC3339Nano, at)
	if !ok || err != nil || !ValidPartnerID(id) {
		return nil, bad
	}
	return &store.PartnerIDKeyset{CreatedAt: t.UTC(), PartnerID: id}, nil
}

// ListPartnerIDs lists partner IDs oldest first, for operator admins and
// verification reviewers; q keeps those whose ID or legal name starts with
// it (ignoring case).
func (s *Service) ListPartnerIDs(ctx context.Context, actor csphub.Actor, q string, pageToken string, pageSize int) (PartnerIDPage, error) {
	if pageSize <= 0 || pageSize > 500 {
		pageSize = 50
	}
	q = strings.TrimSpace(q)
	return read(ctx, s, func(tx *store.Tx) (PartnerIDPage, error) {
		if err := requirePartnerIDRole(tx, actor, errPartnerIDReaderRequired, csphub.RoleOperatorAdmin, csphub.RoleVerificationReviewer); err != nil {
			return PartnerIDPage{}, err
		}
		after, err := decodePartnerIDKeyset(pageToken)
		if err != nil {
			return PartnerIDPage{}, err
		}
		if utf8.RuneCountInString(q) > maxPartnerIDLegalName {
			return PartnerIDPage{}, csphub.Invalid(csphub.FieldError{Field: "q", Code: "too_long",
				Message: fmt.Sprintf("must be at most %d characters", maxPartnerIDLegalName)})
		}
		items, err := tx.PartnerIDs(q, after, pageSize+1)
		if err != nil {
			return PartnerIDPage{}, err
		}
		p := PartnerIDPage{Items: items[:min(len(items), pageSize)]}
		if len(items) > pageSize {
			last := p.Items[pageSize-1]
			p.NextPageToken = encodePartnerIDKeyset(store.PartnerIDKeyset{CreatedAt: last.CreatedAt, PartnerID: last.PartnerID})
		}
		return p, nil
	})
}

// SetPartnerIDStatus activates or deactivates a partner ID, operator
// admins only. An inactive ID cannot be linked at enrollment; one linked
// already stays linked.
func (s *Service) SetPartnerIDStatus(ctx context.Context, actor csphub.Actor, partnerID string, status csphub.PartnerIDStatus) (csphub.PartnerID, error) {
	return write(ctx, s, func(tx *store.Tx) (csphub.PartnerID, error) {
		if err := requirePartnerIDRole(tx, actor, errPartnerIDAdminRequired, csphub.RoleOperatorAdmin); err != nil {
			return csphub.PartnerID{}, err
		}
		if status != csphub.PartnerIDActive && status != csphub.PartnerIDInactive {
			return csphub.PartnerID{}, csphub.Invalid(csphub.FieldError{Field: "status", Code: "invalid_status", Message: "must be active or inactive"})
		}
		if !ValidPartnerID(partnerID) {
			return csphub.PartnerID{}, csphub.NotFound("partner_id")
		}
		rec, err := tx.PartnerIDRecord(partnerID, true)
		if err != nil {
			return csphub.PartnerID{}, err
		}
		before := rec.PartnerID
		if before.Status == status {
			return before, nil // nothing changes, so nothing is written or recorded
		}
		if err := tx.SetPartnerIDStatus(partnerID, status); err != nil {
			return csphub.PartnerID{}, err
		}
		after := before
		after.Status = status
		if err := tx.Audit(actor, csphub.AuditEntry{Action: "partner_id.set_status", ResourceType: "partner_id", ResourceID: partnerID,
			Before: before, After: after}); err != nil {
			return csphub.PartnerID{}, err
		}
		if err := tx.Emit(actor, csphub.EventEntry{Type: "partner_id.status_changed", Subject: partnerID, Data: after}); err != nil {
			return csphub.PartnerID{}, err
		}
		return after, nil
	})
}

// --- enrollment ---

// partnerIDClaimFailed is the one answer to an unknown partner ID and to a wrong
// claim code, so that trying IDs tells nothing about which exist.
var partnerIDClaimFailed = csphub.FieldError{Field: "claim_code", Code: "claim_failed", Message: "the partner ID and claim code do not match"}

// claimPartnerID links an imported partner ID to an organization, inside
// the caller's transaction (the enrollment's). The ID's row is locked
// first. It answers field errors, never linking, when the claim code does
// not match, the ID is inactive, linked to another organization, or
// located in another country than orgCountry, or when the organization
// has another partner ID already. Linking an ID again to the same
// organization changes nothing.
func (s *Service) claimPartnerID(tx *store.Tx, orgID, orgCountry, partnerID, claimCode string) (csphub.PartnerID, []csphub.FieldError, error) {
	partnerID = strings.TrimSpace(partnerID)
	switch {
	case partnerID == "":
		return csphub.PartnerID{}, []csphub.FieldError{{Field: "partner_id", Code: "required", Message: "is required"}}, nil
	case !ValidPartnerID(partnerID):
		return csphub.PartnerID{}, []csphub.FieldError{{Field: "partner_id", Code: "invalid_partner_id",
			Message: "must be 6 to 10 digits, the first not 0"}}, nil
	case strings.TrimSpace(claimCode) == "":
		return csphub.PartnerID{}, []csphub.FieldError{{Field: "claim_code", Code: "required",
			Message: "enter the claim code you received with your partner ID"}}, nil
	}
	// Hash whatever was typed, so that every answer costs the same.
	hash := hashClaimCode(claimCode)
	if len(claimCode) > maxClaimCodeInput {
		hash = ""
	}
	rec, err := tx.PartnerIDRecord(partnerID, true)
	if csphub.ErrorKind(err) == csphub.KindNotFound {
		return csphub.PartnerID{}, []csphub.FieldError{partnerIDClaimFailed}, nil
	}
	if err != nil {
		return csphub.PartnerID{}, nil, err
	}
	if rec.ClaimCodeHash == "" || hash == "" || subtle.ConstantTimeCompare([]byte(rec.ClaimCodeHash), []byte(hash)) != 1 {
		return csphub.PartnerID{}, []csphub.FieldError{partnerIDClaimFailed}, nil
	}
	var fields []csphub.FieldError
	if rec.Status != csphub.PartnerIDActive {
		fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "partner_id_inactive",
			Message: "this partner ID is inactive: ask the program's operator to reactivate it"})
	}
	if rec.OrgID != "" && rec.OrgID != orgID {
		fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "partner_id_taken",
			Message: "this partner ID is linked to another organization"})
	}
	if rec.Country != orgCountry {
		fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "partner_id_location",
			Message: fmt.Sprintf("the partner ID's location (%s) must be in the same country or region as your account (%s)", rec.Country, orgCountry)})
	}
	if rec.OrgID != orgID {
		current, err := tx.PartnerIDOfOrganization(orgID)
		if err != nil {
			return csphub.PartnerID{}, nil, err
		}
		if current != "" {
			fields = append(fields, csphub.FieldError{Field: "partner_id", Code: "organization_has_partner_id",
				Message: fmt.Sprintf("your organization is linked to partner ID %s already", current)})
		}
	}
	if len(fields) > 0 {
		return csphub.PartnerID{}, fields, nil
	}
	if rec.OrgID == orgID {
		return rec.PartnerID, nil, nil
	}
	linked, err := tx.LinkPartnerID(partnerID, orgID)
	if err != nil {
		return csphub.PartnerID{}, nil, err
	}
	if !linked { // the row is locked since it was read: only a change of the locking rules gets here
		return csphub.PartnerID{}, []csphub.FieldError{{Field: "partner_id", Code: "partner_id_taken",
			Message: "this partner ID is linked to another organization"}}, nil
	}
	now := tx.Now()
	out := rec.PartnerID
	out.OrgID, out.LinkedAt = orgID, &now
	return out, nil, nil
}

// maxPartnerIDIssueAttempts bounds the draws of a free partner ID: with at most a
// few hundred thousand IDs among nine million, a draw collides rarely.
const maxPartnerIDIssueAttempts = 32

// drawPartnerID draws seven random digits, the first not 0 (tests replace
// it to force collisions).
var drawPartnerID = func() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(9_000_000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d", 1_000_000+n.Int64()), nil
}

// issuePartnerID issues a new partner ID to an organization that has none,
// inside the caller's transaction: seven random digits, the first not 0,
// drawn again while the ID is taken. The ID is active and linked at once.
func (s *Service) issuePartnerID(tx *store.Tx, orgID, legalName, country string) (csphub.PartnerID, error) {
	current, err := tx.PartnerIDOfOrganization(orgID)
	if err != nil {
		return csphub.PartnerID{}, err
	}
	if current != "" {
		return csphub.PartnerID{}, csphub.Conflict("organization_has_partner_id",
			fmt.Sprintf("the organization is linked to partner ID %s already", current))
	}
	for range maxPartnerIDIssueAttempts {
		id, err := drawPartnerID()
		if err != nil {
			return csphub.PartnerID{}, err
		}
		now := tx.Now()
		rec := store.PartnerIDRecord{PartnerID: csphub.PartnerID{
			PartnerID: id, LegalName: legalName, Country: country,
			Status: csphub.PartnerIDActive, Source: "issued", OrgID: orgID, CreatedAt: now, LinkedAt: &now}}
		inserted, err := tx.InsertPartnerIDs([]store.PartnerIDRecord{rec})
		if err != nil {
			return csphub.PartnerID{}, err
		}
		if inserted[id] {
			return rec.PartnerID, nil
		}
	}
	return csphub.PartnerID{}, errors.New("issue partner id: no free partner ID found")
}
